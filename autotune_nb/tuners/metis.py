"""Metis (Li et al., "Metis: Robustly tuning tail latencies of cloud systems", SoCC 2018), NNI's
``MetisTuner`` and its classArgs, on this package's Gaussian process (``_gp.py``).

After ``cold_start_num`` random suggestions, each suggestion picks one of three candidates:

* **exploitation**: the point of lowest predicted loss under the GP (the posterior mean minimised from
  the best of ``selection_num_starting_points`` random points, refined with L-BFGS-B);
* **exploration**: the point most likely good rather than bad under two Gaussian mixtures, one
  component per observed point, fitted to the best quarter of the trials and to the rest; drawn
  from the good mixture, it is taken with probability ``exploration_probability``
  (``no_candidates=True``: never);
* **re-sampling** (``no_resampling=False``): a finished configuration the GP's own diagnostic (its
  leave-one-out prediction) calls a likely outlier, its loss outside the 95% interval predicted from
  the other trials, is run once more, so that one noisy measurement does not steer the model.

Running trials are fantasised at the mean loss so the model covers them; no suggestion repeats a
running configuration, and only re-sampling repeats a finished one. Searches choice, randint, uniform
and quniform (NNI's Metis types), flat spaces only; a choice is an ordinal axis of its options.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from scipy import linalg, optimize, special

from ..class_args import require_bool, require_int, require_number
from ..space import SearchSpace
from ..trial import Trial, TrialState
from ._gp import Hyperparameters, Posterior, fit_hyperparameters, single_threaded_blas
from .base import Tuner, config_key

_NU = 2.5
_ALPHA = 1e-6
#: The share of the scored trials the exploration's "good" mixture is fitted to.
_GOOD_SHARE = 0.25
#: Points drawn from the good mixture for each exploration candidate.
_EXPLORATION_DRAWS = 500
#: The best random starting points refined with L-BFGS-B when minimising the posterior mean.
_REFINED_STARTS = 5
#: A loss whose leave-one-out z-score exceeds this (the two-sided 95% bound) is a likely outlier.
_OUTLIER_Z = float(special.ndtri(0.975))


class MetisTuner(Tuner):
    """Metis: GP exploitation, mixture-model exploration and re-sampling of likely outliers.

    Args:
        no_resampling: True (NNI's default) never re-runs a finished configuration.
        no_candidates: True suggests only the exploitation candidate (no exploration).
        selection_num_starting_points: random points scored by the GP's mean for each exploitation
            candidate (the best few are refined with L-BFGS-B).
        cold_start_num: random suggestions before the model is used.
        exploration_probability: the chance a suggestion is the exploration candidate.

    Example:
        >>> tuner = MetisTuner({"x": {"_type": "uniform", "_value": [0, 1]}}, optimize_mode="minimize", seed=0)
        >>> [config] = tuner.suggest(1)
    """

    supported_types = frozenset({"choice", "randint", "uniform", "quniform"})
    supports_nested = False

    def __init__(self, space: SearchSpace | dict, *, optimize_mode: str = "maximize", seed: int | None = None,
                 no_resampling: bool = True, no_candidates: bool = False, selection_num_starting_points: int = 600,
                 cold_start_num: int = 10, exploration_probability: float = 0.9):
        super().__init__(space, optimize_mode=optimize_mode, seed=seed)
        self.no_resampling = require_bool("MetisTuner", "no_resampling", no_resampling)
        self.no_candidates = require_bool("MetisTuner", "no_candidates", no_candidates)
        self.selection_num_starting_points = require_int(
            "MetisTuner", "selection_num_starting_points", selection_num_starting_points, minimum=1)
        self.cold_start_num = require_int("MetisTuner", "cold_start_num", cold_start_num, minimum=1)
        self.exploration_probability = require_number(
            "MetisTuner", "exploration_probability", exploration_probability, minimum=0.0, maximum=1.0,
            why="a probability")
        self._resampled: set[str] = set()
        self._theta: np.ndarray | None = None
        self._theta_for = -1  # how many scored trials self._theta was fitted on

    # --- suggestions --------------------------------------------------------------------------
    def _suggest(self, n: int) -> list[dict[str, Any]]:
        taken = {config_key(config) for config in self.pending}
        finished = {config_key(trial.params) for trial in self.history}
        chosen: list[dict[str, Any]] = []
        with single_threaded_blas():
            for _ in range(n):
                config = self._suggest_one(taken, finished, chosen)
                if config is None:
                    break
                taken.add(config_key(config))
                chosen.append(config)
        return chosen

    def _suggest_one(self, taken: set[str], finished: set[str], chosen: list[dict]) -> dict[str, Any] | None:
        trials, losses = self._scored()
        suggested = len(self.history) + len(self.pending) + len(chosen)
        if len(trials) < 2 or suggested < self.cold_start_num:
            return self.random_config(taken | finished)
        x = np.array([self.space.encode(trial.params) for trial in trials])
        scale = float(losses.std()) or 1.0
        y = (losses - losses.mean()) / scale
        posterior = self._posterior(x, y, [*self.pending, *chosen])
        if not self.no_resampling:
            outlier = self._likely_outlier(trials, posterior, len(y), taken)
            if outlier is not None:
                self._resampled.add(config_key(outlier))
                return dict(outlier)
        exclude = taken | finished
        if not self.no_candidates and self.rng.random() < self.exploration_probability:
            config = self._exploration_candidate(x, losses, exclude)
            if config is not None:
                return config
        return self._exploitation_candidate(posterior, exclude) or self.random_config(exclude)

    def _posterior(self, x: np.ndarray, y: np.ndarray, running: list[dict]) -> Posterior:
        """The GP of the scored trials, the running ones fantasised at the mean (standardised 0). The
        hyperparameters are refitted when trials were scored since the last fit, from the last fit
        and from the initial point."""
        if self._theta_for != len(y):
            starts = [Hyperparameters.initial(x.shape[1])]
            if self._theta is not None:
                starts.insert(0, self._theta)
            self._theta = fit_hyperparameters(x, y, _NU, _ALPHA, starts).theta
            self._theta_for = len(y)
        hyper = Hyperparameters(self._theta)
        if running:
            x = np.vstack([x, [self.space.encode(config) for config in running]])
            y = np.concatenate([y, np.zeros(len(running))])
        return Posterior(x, y, hyper, _NU, _ALPHA)

    def _likely_outlier(self, trials: list[Trial], posterior: Posterior, scored: int,
                        taken: set[str]) -> dict[str, Any] | None:
        """The scored trial whose loss its leave-one-out prediction explains worst, if outside the 95%
        interval, not re-sampled before and not running. Closed form: with ``K`` the kernel matrix,
        the residual is ``(K^-1 y)_i / (K^-1)_ii`` and its variance ``1 / (K^-1)_ii``."""
        inverse_diagonal = np.diag(linalg.cho_solve((posterior.chol, True), np.eye(len(posterior.x))))[:scored]
        z = np.abs(posterior.weights[:scored]) / np.sqrt(inverse_diagonal)
        for index in np.argsort(-z, kind="stable"):
            if z[index] <= _OUTLIER_Z:
                return None
            trial = trials[index]
            key = config_key(trial.params)
            if trial.state == TrialState.SUCCEEDED and key not in self._resampled and key not in taken:
                return trial.params
        return None

    def _exploration_candidate(self, x: np.ndarray, losses: np.ndarray, exclude: set[str]) -> dict | None:
        """The draw of the good mixture with the largest log ratio of good to bad density."""
        order = np.argsort(losses, kind="stable")
        n_good = max(1, int(math.ceil(_GOOD_SHARE * len(losses))))
        good, bad = x[order[:n_good]], x[order[n_good:]]
        bandwidth = max(0.25 * len(x) ** (-1.0 / (x.shape[1] + 4)), 0.02)
        centres = good[self.rng.integers(len(good), size=_EXPLORATION_DRAWS)]
        draws = np.clip(centres + self.rng.normal(0.0, bandwidth, size=centres.shape), 0.0, 1.0)
        score = _log_mixture(draws, good, bandwidth) - _log_mixture(draws, bad, bandwidth)
        return self._first_new(draws[np.argsort(-score, kind="stable")], exclude)

    def _exploitation_candidate(self, posterior: Posterior, exclude: set[str]) -> dict | None:
        """The point of lowest posterior mean: random starts, the best refined with L-BFGS-B."""
        dims = posterior.x.shape[1]
        starts = self.rng.random((self.selection_num_starting_points, dims))
        ranked = starts[np.argsort(posterior.predict(starts)[0], kind="stable")]
        refined = [_minimise_mean(posterior, start) for start in ranked[:_REFINED_STARTS]]
        refined.sort(key=lambda point: float(posterior.predict(point[None, :])[0][0]))
        return self._first_new([*refined, *ranked], exclude)

    def _first_new(self, points, exclude: set[str]) -> dict[str, Any] | None:
        for point in points:
            config = self.space.decode(point)
            if config_key(config) not in exclude:
                return config
        return None

    # --- the model ----------------------------------------------------------------------------
    def _scored(self) -> tuple[list[Trial], np.ndarray]:
        trials, losses = self.scored_history()
        keep = np.isfinite(losses)
        return [t for t, k in zip(trials, keep) if k], losses[keep]


def _log_mixture(points: np.ndarray, centres: np.ndarray, bandwidth: float) -> np.ndarray:
    """Log density of an equal-weight mixture of isotropic Gaussians at ``centres`` (up to a constant
    shared by mixtures of the same bandwidth and dimension)."""
    if len(centres) == 0:
        return np.zeros(len(points))
    sq = ((points[:, None, :] - centres[None, :, :]) ** 2).sum(-1) / (2 * bandwidth**2)
    return special.logsumexp(-sq, axis=1) - math.log(len(centres))


def _minimise_mean(posterior: Posterior, start: np.ndarray) -> np.ndarray:
    def objective(point: np.ndarray) -> tuple[float, np.ndarray]:
        mean, _, mean_grad, _ = posterior.predict_with_gradient(point[None, :])
        return float(mean[0]), mean_grad[0]

    result = optimize.minimize(objective, start, jac=True, method="L-BFGS-B",
                               bounds=[(0.0, 1.0)] * len(start), options={"maxiter": 50})
    point = np.clip(result.x, 0.0, 1.0)
    return point if np.all(np.isfinite(point)) else start
