"""Tuner throughput: trials per second of every registered tuner when a study holds 1k, 10k and 100k
trials, to show which tuners scale linearly.

For each tuner and each size N, the tuner is first told N random trials that it did not suggest, as a
resumed study tells it its history ("import", timed: trials/s of observe alone), then runs an
observe+suggest loop ("loop", timed: trials/s of ``suggest(1)`` and ``observe`` of its result) for
``--window-trials`` trials or ``--window-seconds``, whichever ends first (at least 3 trials). A tuner
whose cost per trial is constant keeps the same rates at every N.

The space is a 5-D mixed one (195,840 points once discretised); GridSearch walks its discrete version
and Batch a list of 110,000 of the discrete configurations. A tuner whose model is superlinear by
design stops at its cap in CAPS (override with ``--max-trials NAME=N``); the table says so and why.

Usage:
    python benchmarks/tuner_throughput.py
    python benchmarks/tuner_throughput.py --sizes 1000 10000 --tuners Random TPE_legacy
    python benchmarks/tuner_throughput.py --max-trials GP=10000 --window-seconds 10
"""

from __future__ import annotations

import argparse
import itertools
import math
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from autotune_nb.space import SearchSpace  # noqa: E402
from autotune_nb.trial import Trial, TrialState  # noqa: E402
from autotune_nb.tuners import available_tuners, create_tuner  # noqa: E402

MIXED = {
    "lr": {"_type": "loguniform", "_value": [1e-5, 1e-1]},
    "dropout": {"_type": "uniform", "_value": [0.0, 0.5]},
    "units": {"_type": "quniform", "_value": [16, 512, 16]},
    "depth": {"_type": "randint", "_value": [1, 9]},
    "optimizer": {"_type": "choice", "_value": ["sgd", "adam", "rmsprop"]},
}
DISCRETE = {  # 5 × 51 × 32 × 8 × 3 = 195,840 points
    **MIXED,
    "lr": {"_type": "choice", "_value": [1e-5, 1e-4, 1e-3, 1e-2, 1e-1]},
    "dropout": {"_type": "quniform", "_value": [0.0, 0.5, 0.01]},
}
BATCH_SIZE = 110_000
#: Tuners that cannot reach 100k trials in reasonable time, their cap and why.
CAPS: dict[str, tuple[int, str]] = {
    "GP": (1_000, "each suggestion refits a GP, cubic in the trials observed"),
}


def objective(params: dict[str, Any]) -> float:
    """A cheap function of the space to minimise (its values only have to differ)."""
    return ((math.log10(params["lr"]) + 3) ** 2 + (params["dropout"] - 0.2) ** 2
            + ((params["units"] - 128) / 128) ** 2 + (params["depth"] - 4) ** 2 / 8
            + (0.0 if params["optimizer"] == "adam" else 0.5))


def batch_space() -> dict[str, Any]:
    """Batch's form: one choice listing BATCH_SIZE distinct configurations of DISCRETE."""
    grid = SearchSpace(DISCRETE).grid()
    return {"params": {"_type": "choice", "_value": grid[:BATCH_SIZE]}}


def space_for(name: str) -> dict[str, Any]:
    if name == "GridSearch":
        return DISCRETE
    return batch_space() if name == "Batch" else MIXED


def measure(name: str, space: dict[str, Any], size: int, args: argparse.Namespace) -> tuple[float, float, int]:
    """(import trials/s, loop trials/s, loop trials) of ``name`` holding ``size`` trials."""
    tuner = create_tuner(name, space, optimize_mode="minimize", seed=args.seed)
    rng = np.random.default_rng(args.seed)
    history = [tuner.space.sample(rng) for _ in range(size)]
    start = time.perf_counter()
    for number, params in enumerate(history):
        tuner.observe(Trial(number, params, TrialState.SUCCEEDED, objective(params)))
    import_rate = size / (time.perf_counter() - start)
    start, done = time.perf_counter(), 0
    for number in itertools.count(size):
        elapsed = time.perf_counter() - start
        if done >= 3 and (done >= args.window_trials or elapsed >= args.window_seconds):
            break
        suggestions = tuner.suggest(1)
        if not suggestions:
            break
        tuner.observe(Trial(number, suggestions[0], TrialState.SUCCEEDED, objective(suggestions[0])))
        done += 1
    return import_rate, done / (time.perf_counter() - start), done


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000, 10_000, 100_000])
    parser.add_argument("--tuners", nargs="+", default=available_tuners(), help="default: every registered name")
    parser.add_argument("--window-trials", type=int, default=1_000, help="most loop trials per point")
    parser.add_argument("--window-seconds", type=float, default=3.0, help="most loop seconds per point")
    parser.add_argument("--max-trials", nargs="*", default=[], metavar="NAME=N", help="override a cap in CAPS")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    caps = dict(CAPS)
    for override in args.max_trials:
        name, _, cap = override.partition("=")
        caps[name] = (int(cap), "--max-trials")

    print(f"trials/s; loop = suggest(1) + observe, for at most {args.window_trials} trials or "
          f"{args.window_seconds:g} s after importing N trials")
    print(f"{'tuner':<12}{'N':>9}{'import/s':>12}{'loop/s':>10}{'loop trials':>13}")
    for name in args.tuners:
        space = space_for(name)
        cap, why = caps.get(name, (math.inf, ""))
        for size in args.sizes:
            if size > cap:
                print(f"{name:<12}{size:>9}  capped at {cap:,} trials: {why}", flush=True)
                continue
            import_rate, loop_rate, done = measure(name, space, size, args)
            print(f"{name:<12}{size:>9}{import_rate:>12,.0f}{loop_rate:>10,.1f}{done:>13}", flush=True)


if __name__ == "__main__":
    main()
