"""BOHB (Falkner, Klein and Hutter, "BOHB: Robust and Efficient Hyperparameter Optimization at
Scale", ICML 2018), NNI's advisor of that name: Hyperband's brackets (hyperband.py) whose rung-0
configurations come from a model instead of at random.

The model, as in the paper: the observations of the largest budget that has at least
``min_points_in_model + 2`` of them (default: the number of dimensions + 1) are split into the best
``max(min_points_in_model, top_n_percent %)`` and the rest (at least ``min_points_in_model``); a
Parzen estimator is fitted on each (our TPE's, ``tpe._ParzenEstimator`` on its unit-cube layout),
``num_samples`` candidates are drawn from the good one with its numeric bandwidths widened by
``bandwidth_factor`` (floored at ``min_bandwidth``), and the candidate with the largest l(x)/g(x)
is run. A ``random_fraction`` of configurations, and all of them before any budget has enough
observations, are drawn at random.

Budgets run from ``max_budget * eta^-s_max`` to ``max_budget``, s_max = floor(log_eta(max_budget /
min_budget)); brackets run side by side to fill the slots (Hyperband's "parallelism").
"""

from __future__ import annotations

import copy
from typing import Any, Mapping

import numpy as np

from ..class_args import require_int, require_number
from ..errors import ConfigurationError
from ..space import SearchSpace
from ..trial import Trial
from .base import config_key
from .hyperband import HyperbandTuner, bracket_plan
from .tpe import _Layout, _ParzenEstimator


class BOHBTuner(HyperbandTuner):
    """Hyperband with a Parzen-estimator model choosing rung 0 (module docstring)."""

    name = "BOHB"

    def __init__(self, space: SearchSpace | Mapping, *, optimize_mode: str = "maximize", seed: int | None = None,
                 min_budget: float = 1, max_budget: float = 3, eta: int = 3, min_points_in_model: int | None = None,
                 top_n_percent: float = 15, num_samples: int = 64, random_fraction: float = 1 / 3,
                 bandwidth_factor: float = 3, min_bandwidth: float = 1e-3):
        owner = self.name
        self.min_budget = require_number(owner, "min_budget", min_budget, above=0)
        self.max_budget = require_number(owner, "max_budget", max_budget, above=0)
        if self.max_budget < self.min_budget:
            raise ConfigurationError(f"{owner}: max_budget must be >= min_budget, got max_budget={max_budget!r} "
                                     f"and min_budget={min_budget!r}")
        if min_points_in_model is not None:
            min_points_in_model = require_int(owner, "min_points_in_model", min_points_in_model, minimum=1,
                                              why="or None: the number of dimensions + 1")
        self.top_n_percent = require_number(owner, "top_n_percent", top_n_percent, above=0, below=100)
        self.num_samples = require_int(owner, "num_samples", num_samples, minimum=1)
        self.random_fraction = require_number(owner, "random_fraction", random_fraction, minimum=0, maximum=1)
        self.bandwidth_factor = require_number(owner, "bandwidth_factor", bandwidth_factor, above=0)
        self.min_bandwidth = require_number(owner, "min_bandwidth", min_bandwidth, above=0)
        super().__init__(space, optimize_mode=optimize_mode, seed=seed, R=1, eta=eta, exec_mode="parallelism")
        self._plan = bracket_plan(self.max_budget / self.min_budget, self.eta)
        self._layout = _Layout(self.space)
        self.min_points_in_model = min_points_in_model or self._layout.size + 1
        self._observed: dict[float, tuple[list[np.ndarray], list[float]]] = {}  # budget -> points, losses

    def _budget(self, bracket, rung: int) -> float:
        """``min_budget`` times the rung's ratio, to 9 decimals (27 * 3^-3 is 1, not 1.0000000000000002)."""
        return round(self.min_budget * bracket.budgets[rung], 9)

    def _ended(self, trial: Trial, budget: float) -> None:
        loss = self.loss(trial)
        if loss is not None:
            points, losses = self._observed.setdefault(budget, ([], []))
            points.append(self._layout.point(trial.params))
            losses.append(loss)

    def _new_config(self, budget: float) -> dict[str, Any] | None:
        if self.rng.random() < self.random_fraction:
            return self.random_config(self._taken)
        model = self._model()
        if model is None:
            return self.random_config(self._taken)
        good, bad = model
        wide = _widened(good, self.bandwidth_factor, self.min_bandwidth)
        candidates = wide.sample(self.rng, self.num_samples)
        score = good.log_pdf(candidates) - bad.log_pdf(candidates)
        for index in np.argsort(-score, kind="stable"):
            config = self._layout.config(candidates[index])
            if config_key(config) not in self._taken:
                return config
        return self.random_config(self._taken)

    def _model(self) -> tuple[_ParzenEstimator, _ParzenEstimator] | None:
        """The good and bad estimators on the largest budget with enough observations, or None."""
        enough = [b for b, (_, losses) in self._observed.items() if len(losses) >= self.min_points_in_model + 2]
        if not enough:
            return None
        points, losses = self._observed[max(enough)]
        order = np.argsort(losses, kind="stable")
        n = len(losses)
        n_good = max(self.min_points_in_model, int(self.top_n_percent * n / 100))
        n_bad = max(self.min_points_in_model, n - n_good)
        rows = np.vstack(points)
        good, bad = rows[order[:n_good]], rows[order[-n_bad:]]
        return (_ParzenEstimator(good, np.ones(len(good)), self._layout),
                _ParzenEstimator(bad, np.ones(len(bad)), self._layout))


def _widened(estimator: _ParzenEstimator, factor: float, floor: float) -> _ParzenEstimator:
    """A copy of ``estimator`` for drawing candidates, its numeric bandwidths times ``factor`` (at
    least ``floor``): BOHB samples wider than it scores. Only its sampling terms are refitted."""
    from scipy import special

    wide = copy.copy(estimator)
    wide.sigma = np.maximum(estimator.sigma * factor, floor)
    wide.cdf_low = special.ndtr(-wide.mu / wide.sigma)
    wide.cdf_mass = special.ndtr((1 - wide.mu) / wide.sigma) - wide.cdf_low
    return wide
