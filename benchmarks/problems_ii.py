"""Search quality II's problems (issue 18), added to ``problems.PROBLEMS`` by search_quality.py: rugged
many-minima landscapes in 2-4 D, outputs spanning orders of magnitude, a noisy function, mixed
categorical/integer spaces and a real model-tuning task. Every objective is MINIMISED.

    Rastrigin-3D     [-5.12, 5.12]^3, min 0 at the origin; ~10^3 local minima on a bowl
    Schwefel-2D      [-500, 500]^2, min 0 at (420.9687, 420.9687); the second-best basin is far away
    Levy-4D          [-10, 10]^4, min 0 at (1, 1, 1, 1)
    Wide-Hartmann6   exp(4.2 * (Hartmann6 + 3.322368)): Hartmann6's landscape with values from 1 (its
                     minimum) to ~1.1e6, six orders of magnitude
    Wide-Rosenbrock4 Rosenbrock in 4-D on [-5, 10]^4, min 0: values from ~1e-3 near the minimum to ~1e6
    Noisy-Hartmann6  Hartmann6 plus Gaussian noise of sd 0.1 (about 3% of its range), drawn from the
                     configuration itself so a configuration always scores the same; regret is the best
                     NOISY value found minus the noiseless minimum, so it can dip below 0
    MixedInt-6D      two integers (one of 60 values, one of 8), two choices with an interaction, a
                     loguniform and a uniform; min 0
    RF-breast-cancer 1 - 3-fold CV accuracy of a 30-tree random forest on sklearn's breast cancer data:
                     max_depth randint, min_samples_leaf randint, max_features uniform, criterion and
                     class_weight choices (a mixed space); minimum unknown (estimated from the run)

SVC-digits (problems.py) is the second model-tuning task.
"""

from __future__ import annotations

import functools
import hashlib
import json
import math
from typing import Any, Mapping

import numpy as np

from problems import Problem, _uniform_space, _vector, hartmann6


def rastrigin(x: np.ndarray) -> float:
    return float(10 * len(x) + np.sum(x**2 - 10 * np.cos(2 * math.pi * x)))


def schwefel(x: np.ndarray) -> float:
    return float(418.9828872724338 * len(x) - np.sum(x * np.sin(np.sqrt(np.abs(x)))))


def levy(x: np.ndarray) -> float:
    w = 1 + (x - 1) / 4
    head = math.sin(math.pi * w[0]) ** 2
    body = np.sum((w[:-1] - 1) ** 2 * (1 + 10 * np.sin(math.pi * w[:-1] + 1) ** 2))
    tail = (w[-1] - 1) ** 2 * (1 + math.sin(2 * math.pi * w[-1]) ** 2)
    return float(head + body + tail)


def rosenbrock(x: np.ndarray) -> float:
    return float(np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2))


_HARTMANN_MINIMUM = -3.322368


def wide_hartmann6(params: Mapping[str, Any]) -> float:
    return math.exp(4.2 * (hartmann6(params) - _HARTMANN_MINIMUM))


def _noise(params: Mapping[str, Any]) -> float:
    """A standard normal drawn from the configuration (the same configuration, the same noise)."""
    digest = hashlib.sha256(json.dumps(dict(params), sort_keys=True, default=str).encode()).digest()
    return float(np.random.default_rng(int.from_bytes(digest[:8], "little")).normal())


def noisy_hartmann6(params: Mapping[str, Any]) -> float:
    return hartmann6(params) + 0.1 * _noise(params)


MIXED_INT_SPACE = {
    "batch": {"_type": "randint", "_value": [4, 64]},
    "layers": {"_type": "randint", "_value": [1, 9]},
    "optimizer": {"_type": "choice", "_value": ["sgd", "adam", "rmsprop"]},
    "schedule": {"_type": "choice", "_value": ["constant", "cosine", "step"]},
    "lr": {"_type": "loguniform", "_value": [1e-5, 1.0]},
    "dropout": {"_type": "uniform", "_value": [0.0, 0.8]},
}
#: The best learning rate (log10) depends on the optimizer; sgd with a cosine schedule is best.
_BEST_LOG_LR = {"sgd": -1.0, "adam": -3.0, "rmsprop": -2.5}
_PAIR_COST = {("sgd", "cosine"): 0.0, ("adam", "cosine"): 0.3, ("adam", "constant"): 0.5}


def mixed_int6(params: Mapping[str, Any]) -> float:
    pair = (params["optimizer"], params["schedule"])
    return (
        ((params["batch"] - 37) / 12) ** 2
        + abs(params["layers"] - 5) / 2
        + _PAIR_COST.get(pair, 1.0)
        + (math.log10(params["lr"]) - _BEST_LOG_LR[params["optimizer"]]) ** 2
        + 4 * (params["dropout"] - 0.25) ** 2
    )


@functools.lru_cache(maxsize=1)
def _breast_cancer() -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import load_breast_cancer

    return load_breast_cancer(return_X_y=True)


RF_SPACE = {
    "max_depth": {"_type": "randint", "_value": [1, 16]},
    "min_samples_leaf": {"_type": "randint", "_value": [1, 20]},
    "max_features": {"_type": "uniform", "_value": [0.05, 1.0]},
    "criterion": {"_type": "choice", "_value": ["gini", "entropy"]},
    "class_weight": {"_type": "choice", "_value": ["none", "balanced"]},
}


def rf_breast_cancer(params: Mapping[str, Any]) -> float:
    """1 - mean 3-fold CV accuracy (fixed folds and forest seed: deterministic)."""
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.model_selection import cross_val_score

    x, y = _breast_cancer()
    model = RandomForestClassifier(
        n_estimators=30, max_depth=int(params["max_depth"]), min_samples_leaf=int(params["min_samples_leaf"]),
        max_features=float(params["max_features"]), criterion=params["criterion"],
        class_weight=None if params["class_weight"] == "none" else "balanced", random_state=0, n_jobs=1)
    return 1.0 - float(cross_val_score(model, x, y, cv=3).mean())


def _on_vector(function, n: int):
    return lambda params: function(_vector(params, n))


def _names(n: int) -> list[str]:
    return [f"x{i}" for i in range(n)]


PROBLEMS_II: dict[str, Problem] = {
    p.name: p
    for p in (
        Problem("Rastrigin-3D", _uniform_space(_names(3), -5.12, 5.12), _on_vector(rastrigin, 3), 0.0),
        Problem("Schwefel-2D", _uniform_space(_names(2), -500, 500), _on_vector(schwefel, 2), 0.0),
        Problem("Levy-4D", _uniform_space(_names(4), -10, 10), _on_vector(levy, 4), 0.0),
        Problem("Wide-Hartmann6", _uniform_space(_names(6), 0, 1), wide_hartmann6, 1.0),
        Problem("Wide-Rosenbrock4", _uniform_space(_names(4), -5, 10), _on_vector(rosenbrock, 4), 0.0),
        Problem("Noisy-Hartmann6", _uniform_space(_names(6), 0, 1), noisy_hartmann6, _HARTMANN_MINIMUM),
        Problem("MixedInt-6D", MIXED_INT_SPACE, mixed_int6, 0.0),
        Problem("RF-breast-cancer", RF_SPACE, rf_breast_cancer, None, slow=True),
    )
}
