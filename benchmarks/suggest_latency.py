"""Suggest latency: milliseconds per suggestion with 10, 100, 500 and 1,000 observed trials on a 6-D
mixed space, for our tuners and, in the same run, optuna's TPESampler (defaults).

Each tuner is first told N random trials (not timed); then ``--repeats`` suggestions are timed one by
one, each told its result before the next (so the history grows from N to N + repeats). optuna's
suggestion is ``study.ask(distributions)`` on an in-memory study holding the same N trials.

With ``--running K``, K suggestions are asked first and stay running: after each timed suggestion the
oldest running one is told its result, as a study at concurrency K + 1 does. This is where TPE's
default lie (the kriging believer) costs time: its GP is refitted as the history grows by 10%.

Usage:
    python benchmarks/suggest_latency.py
    python benchmarks/suggest_latency.py --observed 10 1000 --repeats 50 --tuners TPE Anneal
    python benchmarks/suggest_latency.py --running 3 --repeats 100
"""

from __future__ import annotations

import argparse
import collections
import math
import statistics
import sys
import time
import warnings
from pathlib import Path
from typing import Any, Callable

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from autotune_nb.space import SearchSpace  # noqa: E402
from autotune_nb.trial import Trial, TrialState  # noqa: E402
from autotune_nb.tuners import create_tuner  # noqa: E402

SPACE = {
    "lr": {"_type": "loguniform", "_value": [1e-5, 1e-1]},
    "dropout": {"_type": "uniform", "_value": [0.0, 0.5]},
    "units": {"_type": "quniform", "_value": [16, 512, 16]},
    "depth": {"_type": "randint", "_value": [1, 9]},
    "optimizer": {"_type": "choice", "_value": ["sgd", "adam", "rmsprop"]},
    "momentum": {"_type": "uniform", "_value": [0.5, 0.99]},
}


def objective(params: dict[str, Any]) -> float:
    """A cheap function of SPACE to minimise (its values only have to differ)."""
    return (
        (math.log10(params["lr"]) + 3) ** 2
        + (params["dropout"] - 0.2) ** 2
        + ((params["units"] - 128) / 128) ** 2
        + (params["depth"] - 4) ** 2 / 8
        + (0.0 if params["optimizer"] == "adam" else 0.5)
        + (params["momentum"] - 0.9) ** 2
    )


def random_history(n: int, seed: int) -> list[dict[str, Any]]:
    space, rng = SearchSpace(SPACE), np.random.default_rng(seed)
    return [space.sample(rng) for _ in range(n)]


def time_ours(name: str, history: list[dict[str, Any]], repeats: int, seed: int, running: int) -> list[float]:
    tuner = create_tuner(name, SPACE, optimize_mode="minimize", seed=seed)
    for number, config in enumerate(history):
        tuner.observe(Trial(number, config, TrialState.SUCCEEDED, objective(config)))
    queue = collections.deque(tuner.suggest(running))
    seconds = []
    for number in range(len(history), len(history) + repeats):
        start = time.perf_counter()
        [config] = tuner.suggest(1)
        seconds.append(time.perf_counter() - start)
        queue.append(config)
        done = queue.popleft()
        tuner.observe(Trial(number, done, TrialState.SUCCEEDED, objective(done)))
    return seconds


def time_optuna(history: list[dict[str, Any]], repeats: int, seed: int, running: int) -> list[float]:
    import optuna
    from search_quality import optuna_distributions

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)
    distributions = optuna_distributions(SPACE)
    study = optuna.create_study(sampler=optuna.samplers.TPESampler(seed=seed))
    study.add_trials([optuna.trial.create_trial(params=config, distributions=distributions,
                                                value=objective(config)) for config in history])
    queue = collections.deque(study.ask(distributions) for _ in range(running))
    seconds = []
    for _ in range(repeats):
        start = time.perf_counter()
        queue.append(study.ask(distributions))
        seconds.append(time.perf_counter() - start)
        done = queue.popleft()
        study.tell(done, objective(done.params))
    return seconds


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--observed", type=int, nargs="+", default=[10, 100, 500, 1000])
    parser.add_argument("--repeats", type=int, default=30, help="timed suggestions per point (default 30)")
    parser.add_argument("--tuners", nargs="+", default=["TPE"], help="our tuners to time (default TPE)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--running", type=int, default=0, help="suggestions kept running (default 0)")
    args = parser.parse_args(argv)

    timers: dict[str, Callable[[list[dict[str, Any]]], list[float]]] = {
        name: (lambda history, name=name: time_ours(name, history, args.repeats, args.seed, args.running))
        for name in args.tuners
    }
    timers["optuna"] = lambda history: time_optuna(history, args.repeats, args.seed, args.running)

    print(f"ms per suggestion (median of {args.repeats}; mean in brackets), 6-D mixed space, "
          f"{args.running} running")
    ratio_title = f"ratio {args.tuners[0]}/optuna"
    print(f"{'observed':>9}" + "".join(f"{name:>22}" for name in timers) + f"{ratio_title:>22}")
    for n in args.observed:
        history = random_history(n, args.seed)
        medians, cells = {}, []
        for name, timer in timers.items():
            seconds = timer(history)
            medians[name] = statistics.median(seconds) * 1e3
            cells.append(f"{medians[name]:>12.2f} ({statistics.mean(seconds) * 1e3:6.2f})")
        ratio = medians[args.tuners[0]] / medians["optuna"]
        print(f"{n:>9}" + "".join(f"{cell:>22}" for cell in cells) + f"{ratio:>22.2f}", flush=True)


if __name__ == "__main__":
    main()
