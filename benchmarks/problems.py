"""Benchmark problems shared by the benchmark scripts: each one a search space (NNI's JSON form), an
objective to MINIMISE and its known minimum, so that regret = best value found - minimum.

The synthetic functions use their usual domains (Surjanovic & Bingham's library of test functions):

    Branin         2-D, x1 in [-5, 10], x2 in [0, 15]          min 0.397887 (three global minima)
    Hartmann6      6-D, [0, 1]^6                               min -3.322368 (and a local one at -3.2032)
    Rosenbrock-5D  5-D, [-5, 10]^5                             min 0 at (1, ..., 1)
    Ackley-5D      5-D, [-32.768, 32.768]^5                    min 0 at the origin
    SVC-digits     C loguniform(1e-2, 1e3), gamma loguniform(1e-5, 1e-1); 1 - 3-fold CV accuracy
                   of sklearn's SVC on the digits data. Its minimum is unknown: ``minimum`` is None and
                   the benchmark estimates it from the best value any run found.
    Mixed-5D       a cheap function of a mixed space (uniform, loguniform, quniform, randint, choice),
                   min 0; not one of the issue's problems, it exercises the discrete kernels.
    NAS-cell       a synthetic cell search (NNI's classic NAS types): 4 nodes, each a layer_choice of 6
                   operations and an input_choice of 2 of its predecessors (the cell's 2 inputs and
                   the earlier nodes); 233,280 cells. Its score adds per-node operation and input
                   terms and pairwise terms for every edge between two operations (interactions), all
                   drawn once from a fixed seed; min by enumerating every cell (``nas_cell_minimum``).
"""

from __future__ import annotations

import dataclasses
import functools
import math
from typing import Any, Callable, Mapping

import numpy as np


@dataclasses.dataclass(frozen=True)
class Problem:
    name: str
    space: Mapping[str, Any]
    objective: Callable[[Mapping[str, Any]], float]
    minimum: float | None
    #: True where one evaluation costs a noticeable time (the benchmark runs fewer seeds by default).
    slow: bool = False


def _uniform_space(names: list[str], low: float, high: float) -> dict[str, Any]:
    return {name: {"_type": "uniform", "_value": [low, high]} for name in names}


def _vector(params: Mapping[str, Any], n: int) -> np.ndarray:
    return np.array([params[f"x{i}"] for i in range(n)], dtype=float)


def branin(params: Mapping[str, Any]) -> float:
    x1, x2 = params["x0"], params["x1"]
    b, c, r, s, t = 5.1 / (4 * math.pi**2), 5 / math.pi, 6.0, 10.0, 1 / (8 * math.pi)
    return (x2 - b * x1**2 + c * x1 - r) ** 2 + s * (1 - t) * math.cos(x1) + s


_HARTMANN_ALPHA = np.array([1.0, 1.2, 3.0, 3.2])
_HARTMANN_A = np.array([
    [10, 3, 17, 3.5, 1.7, 8],
    [0.05, 10, 17, 0.1, 8, 14],
    [3, 3.5, 1.7, 10, 17, 8],
    [17, 8, 0.05, 10, 0.1, 14],
])
_HARTMANN_P = 1e-4 * np.array([
    [1312, 1696, 5569, 124, 8283, 5886],
    [2329, 4135, 8307, 3736, 1004, 9991],
    [2348, 1451, 3522, 2883, 3047, 6650],
    [4047, 8828, 8732, 5743, 1091, 381],
])


def hartmann6(params: Mapping[str, Any]) -> float:
    x = _vector(params, 6)
    inner = np.sum(_HARTMANN_A * (x - _HARTMANN_P) ** 2, axis=1)
    return float(-np.sum(_HARTMANN_ALPHA * np.exp(-inner)))


def rosenbrock5(params: Mapping[str, Any]) -> float:
    x = _vector(params, 5)
    return float(np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2))


def ackley5(params: Mapping[str, Any]) -> float:
    x = _vector(params, 5)
    a, b, c = 20.0, 0.2, 2 * math.pi
    return float(
        -a * math.exp(-b * math.sqrt(np.mean(x**2))) - math.exp(np.mean(np.cos(c * x))) + a + math.e
    )


@functools.lru_cache(maxsize=1)
def _digits() -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import load_digits

    return load_digits(return_X_y=True)


def svc_digits(params: Mapping[str, Any]) -> float:
    """1 - mean 3-fold CV accuracy of SVC(C, gamma) on digits (deterministic folds)."""
    from sklearn.model_selection import cross_val_score
    from sklearn.svm import SVC

    x, y = _digits()
    return 1.0 - float(cross_val_score(SVC(C=params["C"], gamma=params["gamma"]), x, y, cv=3).mean())


MIXED_SPACE = {
    "x": {"_type": "uniform", "_value": [-5, 5]},
    "lr": {"_type": "loguniform", "_value": [1e-5, 1e-1]},
    "units": {"_type": "quniform", "_value": [16, 512, 16]},
    "depth": {"_type": "randint", "_value": [1, 9]},
    "act": {"_type": "choice", "_value": ["relu", "tanh", "sigmoid", "gelu"]},
}


def mixed5(params: Mapping[str, Any]) -> float:
    return (
        (params["x"] - 1) ** 2
        + (math.log10(params["lr"]) + 3) ** 2
        + ((params["units"] - 208) / 64) ** 2
        + (params["depth"] - 6) ** 2 / 4
        + (0.0 if params["act"] == "gelu" else 1.0)
    )


NAS_OPERATIONS = ["conv3x3", "conv5x5", "sepconv3x3", "dilconv3x3", "maxpool", "identity"]
NAS_NODES = 4
_NAS_TABLES = np.random.default_rng(2026)
#: Per node and operation; per node and input (the 2 cell inputs, then the nodes); per edge of operations.
_NAS_OPERATION_SCORE = _NAS_TABLES.normal(0.0, 1.0, (NAS_NODES, len(NAS_OPERATIONS)))
_NAS_INPUT_SCORE = _NAS_TABLES.normal(0.0, 0.5, (NAS_NODES, NAS_NODES + 2))
_NAS_EDGE_SCORE = _NAS_TABLES.normal(0.0, 1.0, (len(NAS_OPERATIONS), len(NAS_OPERATIONS)))


def _nas_inputs(node: int) -> list[str]:
    return ["in0", "in1", *(f"node{j}" for j in range(node))]


NAS_SPACE = {
    name: spec
    for node in range(NAS_NODES)
    for name, spec in (
        (f"node{node}_op", {"_type": "layer_choice", "_value": NAS_OPERATIONS}),
        (f"node{node}_in", {"_type": "input_choice", "_value": {"candidates": _nas_inputs(node), "n_chosen": 2}}),
    )
}


def nas_cell(params: Mapping[str, Any]) -> float:
    """Minus the cell's score (lower is better)."""
    operations = [NAS_OPERATIONS.index(params[f"node{node}_op"]) for node in range(NAS_NODES)]
    score = 0.0
    for node, operation in enumerate(operations):
        score += _NAS_OPERATION_SCORE[node, operation]
        for source in params[f"node{node}_in"]:
            index = _nas_inputs(node).index(source)
            score += _NAS_INPUT_SCORE[node, index]
            if index >= 2:  # an edge from an earlier node's operation
                score += _NAS_EDGE_SCORE[operations[index - 2], operation]
    return -float(score)


def nas_cell_minimum() -> float:
    """The minimum of ``nas_cell`` over every cell (a few seconds): how NAS_CELL_MINIMUM was found."""
    from autotune_nb.space import SearchSpace

    return min(nas_cell(cell) for cell in SearchSpace(NAS_SPACE).grid())


#: ``nas_cell_minimum()``, computed once.
NAS_CELL_MINIMUM = -16.788335656095942


PROBLEMS: dict[str, Problem] = {
    p.name: p
    for p in (
        Problem("Branin", {"x0": {"_type": "uniform", "_value": [-5, 10]},
                           "x1": {"_type": "uniform", "_value": [0, 15]}}, branin, 0.397887),
        Problem("Hartmann6", _uniform_space([f"x{i}" for i in range(6)], 0, 1), hartmann6, -3.322368),
        Problem("Rosenbrock-5D", _uniform_space([f"x{i}" for i in range(5)], -5, 10), rosenbrock5, 0.0),
        Problem("Ackley-5D", _uniform_space([f"x{i}" for i in range(5)], -32.768, 32.768), ackley5, 0.0),
        Problem("SVC-digits", {"C": {"_type": "loguniform", "_value": [1e-2, 1e3]},
                               "gamma": {"_type": "loguniform", "_value": [1e-5, 1e-1]}},
                svc_digits, None, slow=True),
        Problem("Mixed-5D", MIXED_SPACE, mixed5, 0.0),
        Problem("NAS-cell", NAS_SPACE, nas_cell, NAS_CELL_MINIMUM),
    )
}

#: The problems of the issues' tables, run when none are named.
DEFAULT_PROBLEMS = ("Branin", "Hartmann6", "Rosenbrock-5D", "Ackley-5D", "SVC-digits", "NAS-cell")
