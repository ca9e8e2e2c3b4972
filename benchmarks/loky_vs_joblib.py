"""The local pool's executor: standalone ``loky`` against the copy joblib ships (``joblib.externals.loky``).

``LocalPool`` runs each slot on a one-process loky ``ProcessPoolExecutor`` (with ``env`` and an
initializer). joblib bundles loky; this measures what the pool pays with each copy. Each round
runs one fresh study-like process per copy (the two interleaved, so drifts of the machine hit both
alike; separate processes, because once both copies are loaded in a process, the workers of the
standalone copy import joblib and numpy too). In it:

* import: seconds to import the copy, numpy and cloudpickle already imported (as in a study);
* start: the process's first one-worker executor (``env`` and initializer as the pool gives them,
  loky's resource tracker started with it) until its first job's result is back: a study's start;
* round trip: submit a trial-sized job to that warm worker and get its result back (per trial;
  the median of ``--trips`` in each round);
* kill: ``shutdown(wait=True, kill_workers=True)`` of the busy worker: what ``cancel`` waits for;
* restart: a new executor after that, until its first result: a slot rebuilt after a cancel or a
  dead worker;
* restart+numpy: the same for a worker that imports numpy (as most trial functions do), which
  joblib's package import pulls in anyway.

Each figure is the median (and 90th percentile) over the rounds. The standalone ``loky`` is no longer
a dependency of autotune_nb (this measurement is why): ``pip install loky`` before running it.

    python benchmarks/loky_vs_joblib.py [--rounds 15] [--trips 400]
"""

from __future__ import annotations

import argparse
import importlib
import json
import platform
import statistics
import subprocess
import sys
import time

MODULES = ("loky", "joblib.externals.loky")
FIGURES = (("import", 1e3, "ms"), ("start", 1e3, "ms"), ("restart", 1e3, "ms"), ("restart+numpy", 1e3, "ms"),
           ("kill", 1e3, "ms"), ("trip", 1e6, "us"))
PAYLOAD = {"trial_number": 123, "params": {"lr": 0.01, "units": 128, "act": "relu", "dropout": 0.25}}


def initialize() -> None:
    """Stands for the pool's worker initializer (which ignores SIGINT and starts a watchdog)."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)


def initialize_with_numpy() -> None:
    initialize()
    import numpy  # noqa: F401


def echo(payload):
    return payload


def hang(seconds):
    time.sleep(seconds)


def measure(module: str, trips: int) -> dict[str, float]:
    """One round for one copy, in this (fresh) process."""
    import cloudpickle  # noqa: F401
    import numpy  # noqa: F401

    began = time.perf_counter()
    loky = importlib.import_module(module)
    figures = {"import": time.perf_counter() - began}

    def new_executor(initializer):
        return loky.ProcessPoolExecutor(max_workers=1, env={"OMP_NUM_THREADS": "1", "CUDA_VISIBLE_DEVICES": ""},
                                        initializer=initializer)

    began = time.perf_counter()
    executor = new_executor(initialize)
    executor.submit(echo, PAYLOAD).result()
    figures["start"] = time.perf_counter() - began
    round_trips = []
    for _ in range(trips):
        sent = time.perf_counter()
        executor.submit(echo, PAYLOAD).result()
        round_trips.append(time.perf_counter() - sent)
    figures["trip"] = statistics.median(round_trips)
    executor.submit(hang, 60)
    time.sleep(0.1)  # the job runs in the worker
    began = time.perf_counter()
    executor.shutdown(wait=True, kill_workers=True)
    figures["kill"] = time.perf_counter() - began

    for figure, initializer in (("restart", initialize), ("restart+numpy", initialize_with_numpy)):
        began = time.perf_counter()
        executor = new_executor(initializer)
        executor.submit(echo, PAYLOAD).result()
        figures[figure] = time.perf_counter() - began
        executor.shutdown(wait=True, kill_workers=True)
    figures["version"] = loky.__version__
    return figures


def summary(values: list[float], unit: float, label: str) -> str:
    values = sorted(values)
    p90 = values[min(len(values) - 1, int(0.9 * len(values)))]
    return f"{label:<42} {statistics.median(values) * unit:10.1f} {p90 * unit:10.1f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--trips", type=int, default=400)
    parser.add_argument("--one", choices=MODULES, help=argparse.SUPPRESS)  # a round's process
    args = parser.parse_args()
    if args.one:
        print(json.dumps(measure(args.one, args.trips)))
        return

    rounds = {module: [] for module in MODULES}
    for _ in range(args.rounds):
        for module in MODULES:
            out = subprocess.run([sys.executable, __file__, "--one", module, "--trips", str(args.trips)],
                                 check=True, capture_output=True, text=True).stdout
            rounds[module].append(json.loads(out))

    import joblib

    print(f"# python benchmarks/loky_vs_joblib.py --rounds {args.rounds} --trips {args.trips}")
    print(f"# Python {platform.python_version()}, {platform.machine()}, loky {rounds['loky'][0]['version']}, "
          f"joblib {joblib.__version__} (bundled loky {rounds['joblib.externals.loky'][0]['version']})")
    print(f"# medians and 90th percentiles over {args.rounds} rounds, one fresh process per copy and round")
    print(f"{'':<42} {'median':>10} {'p90':>10}")
    for key, unit, unit_name in FIGURES:
        for module in MODULES:
            print(summary([figures[key] for figures in rounds[module]], unit, f"{key} ({unit_name})  {module}"))


if __name__ == "__main__":
    main()
