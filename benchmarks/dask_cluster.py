"""A study on a real Dask cluster against the local pool, same machine, same run: trials/s and round trip.

The cluster is started from the command line as a person would (``dask scheduler`` and two
``dask worker --nthreads 1`` processes on 127.0.0.1, ``testing.dask_cluster``); the local pool has the
same two slots (``LocalPool(concurrency=2)``). Each entrant runs ``--trials`` no-op trials (Random
tuner, no store, so only the pools differ), ``--repeats`` times, best run shown:

* trials/s over ``study.run`` (the pool's start included: worker start-up for the local pool, the
  plugin that installs the function on each worker for Dask), and over the trial phase alone;
* round trip per trial: the study's time from submitting a trial to recording its end, less the time
  the trial's own code ran in the worker (median and 90th percentile over the trials).

    python benchmarks/dask_cluster.py [--trials 300] [--repeats 2]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import autotune_nb as at  # noqa: E402
from autotune_nb.execution.dask_pool import DaskPool  # noqa: E402
from autotune_nb.execution.pool import LocalPool  # noqa: E402
from autotune_nb.testing.dask_cluster import CommandLineCluster  # noqa: E402

SPACE = {"x": at.uniform(0.0, 1.0)}


def no_op(params):
    began = time.time()
    return {"default": params["x"], "t0": began, "t1": time.time()}


def measure(pool, trials: int) -> dict[str, float]:
    study = at.Study(SPACE, tuner="Random", seed=0, storage=None)
    began = time.perf_counter()
    study.run(no_op, max_trials=trials, executor=pool)
    total = time.perf_counter() - began
    done = study.trials
    assert len(done) == trials and all(t.state == at.TrialState.SUCCEEDED for t in done), study.counts()
    phase = max(t.finished_at for t in done) - min(t.started_at for t in done)
    trips = sorted((t.finished_at - t.started_at) - (t.metrics["t1"] - t.metrics["t0"]) for t in done)
    return {"rate": trials / total, "phase_rate": trials / phase, "trip_ms": 1000 * statistics.median(trips),
            "trip90_ms": 1000 * trips[int(0.9 * (len(trips) - 1))], "seconds": total}


def best_of(repeats: int, pool, trials: int) -> dict[str, float]:
    return max((measure(pool, trials) for _ in range(repeats)), key=lambda figures: figures["rate"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=300)
    parser.add_argument("--repeats", type=int, default=2, help="runs per entrant; the fastest is shown")
    args = parser.parse_args()

    import distributed

    print(f"{os.cpu_count()} CPUs, Python {sys.version.split()[0]}, distributed {distributed.__version__}; "
          f"{args.trials} no-op trials, 2 slots each, no store, best of {args.repeats}")
    started = time.perf_counter()
    with CommandLineCluster(n_workers=2, nthreads=1) as cluster:
        print(f"cluster up in {time.perf_counter() - started:.1f} s at {cluster.address}")
        dask = best_of(args.repeats, DaskPool(cluster.address), args.trials)
    local = best_of(args.repeats, LocalPool(concurrency=2), args.trials)

    for name, figures in (("Dask cluster (2 CLI workers)", dask), ("LocalPool(concurrency=2)    ", local)):
        print(f"  {name} {figures['rate']:7.0f} trials/s ({figures['seconds']:.2f} s incl. start; "
              f"{figures['phase_rate']:.0f}/s over the trial phase)   round trip median "
              f"{figures['trip_ms']:.1f} ms, p90 {figures['trip90_ms']:.1f} ms")
    print(f"ratio Dask / local: trials/s {dask['rate'] / local['rate']:.2f}x "
          f"(trial phase {dask['phase_rate'] / local['phase_rate']:.2f}x), "
          f"round trip {dask['trip_ms'] / local['trip_ms']:.1f}x")


if __name__ == "__main__":
    main()
