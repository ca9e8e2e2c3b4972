"""Parallel efficiency of the local pool, and what the study loop costs per trial.

1. 40 trials of ``time.sleep(0.2)`` at concurrency 1 and 2, in the same run (target: >= 1.9x).
   Printed twice: end to end (``study.run`` including worker start-up, which both runs pay once)
   and over the trial phase (first trial started to last trial finished).
2. No-op trials through the whole Study loop (suggest, submit, outcome, record, observe): trials/s
   in-process (``executor="inline"``) and in worker processes at concurrency 2. A trivial tuner
   isolates the loop and the pool from the cost of a real tuner; no store.

    python benchmarks/parallel_efficiency.py [--trials 40] [--sleep 0.2] [--noop-trials 2000]
"""

from __future__ import annotations

import argparse
import functools
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import autotune_nb as at  # noqa: E402
from autotune_nb.tuners import register_tuner  # noqa: E402
from autotune_nb.tuners.base import Tuner  # noqa: E402

SPACE = {"k": at.randint(0, 1_000_000)}


class CountingTuner(Tuner):
    """Suggests k = 0, 1, 2, ...: no search cost, so the loop's own cost shows."""

    def __init__(self, space, *, optimize_mode="maximize", seed=None):
        super().__init__(space, optimize_mode=optimize_mode, seed=seed)
        self.count = 0

    def _suggest(self, n):
        configs = [{"k": self.count + i} for i in range(n)]
        self.count += n
        return configs


register_tuner("CountingForBenchmark", CountingTuner)


def sleeper(params, seconds):
    time.sleep(seconds)
    return float(params["k"])


def no_op(params):
    return float(params["k"])


def timed_run(fn, trials: int, **run_options) -> tuple[float, float]:
    """(seconds for study.run, seconds from the first trial's start to the last one's end)."""
    study = at.Study(SPACE, tuner="CountingForBenchmark")
    began = time.perf_counter()
    study.run(fn, max_trials=trials, **run_options)
    total = time.perf_counter() - began
    done = study.trials
    assert len(done) == trials and all(t.state == at.TrialState.SUCCEEDED for t in done), study.counts()
    phase = max(t.finished_at for t in done) - min(t.started_at for t in done)
    return total, phase


def parallel_efficiency(trials: int, seconds: float) -> None:
    fn = functools.partial(sleeper, seconds=seconds)
    serial = timed_run(fn, trials, concurrency=1)
    parallel = timed_run(fn, trials, concurrency=2)
    print(f"{trials} trials of time.sleep({seconds}), local pool (ideal: {trials * seconds:.1f} s serial)")
    for label, one, two in (("end to end", serial[0], parallel[0]), ("trial phase", serial[1], parallel[1])):
        print(f"  {label:12s} concurrency 1: {one:6.2f} s   concurrency 2: {two:6.2f} s   "
              f"speed-up {one / two:.2f}x (target >= 1.9x)")


def loop_throughput(trials: int) -> None:
    print(f"{trials} no-op trials through the study loop (trivial tuner, no store)")
    for label, options in (("inline", {"executor": "inline"}),
                           ("local, concurrency 1", {"concurrency": 1}),
                           ("local, concurrency 2", {"concurrency": 2})):
        total, phase = timed_run(no_op, trials, **options)
        print(f"  {label:22s} {trials / phase:8.0f} trials/s over the trials   "
              f"({trials / total:6.0f}/s including worker start-up, {total:.2f} s)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=40)
    parser.add_argument("--sleep", type=float, default=0.2)
    parser.add_argument("--noop-trials", type=int, default=2000)
    args = parser.parse_args()
    print(f"{os.cpu_count()} CPUs, Python {sys.version.split()[0]}")
    parallel_efficiency(args.trials, args.sleep)
    loop_throughput(args.noop_trials)


if __name__ == "__main__":
    main()
