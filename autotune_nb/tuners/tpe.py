"""Multivariate TPE on numpy/scipy: the default tuner, registered as ``TPE``.

How it suggests
---------------
* The first ``n_startup_jobs`` configurations are a scrambled Sobol design over the unit cube of
  ``space.dimensions`` (decoded, so choices are uniform and nested branches consistent).
* Then every finished trial with a loss (SUCCEEDED: its value; EARLY_STOPPED: its last reported value)
  is a point of the unit cube: log axis for log types, CDF axis for normal types, option index for
  ``choice`` and ``randint`` (a randint of more than MAX_CATEGORICAL_RANDINT values stays on its
  numeric axis), NaN for a nested dimension whose branch was not taken. Trials still
  running join with a lie (``constant_liar_type``): by default the loss a Gaussian process on the
  finished trials predicts for each (the kriging believer, believer.py), or NNI's constant liars,
  the best, worst or mean observed loss.
* The ``ceil(gamma * n)`` best points form the good set, the rest the bad set. Each set is a mixture
  of product kernels, one per point, plus a prior component (uniform over the cube and the options):
  Gaussian kernels truncated to [0, 1] on numeric dimensions, with one bandwidth per dimension from
  Scott's rule on the set's spread (shrunk towards the prior's spread, floored at MIN_BANDWIDTH);
  on categorical dimensions a kernel that keeps the point's option with probability
  ``1 - K / (K + n)``. A dimension a point does not activate gets the prior, so a candidate on one
  nested branch is scored by the trials that took that branch (grouping by branch, in one mixture).
  Good points are weighted linearly by rank, from TOP_WEIGHT (the best) down to 1.
* ``n_ei_candidates`` candidates are drawn from the good mixture l(x) and ranked by log l(x) - log g(x),
  all in numpy batches (three matrix products per mixture). The best one that is not running (and,
  if possible, not tried before) is returned; a running configuration is never proposed again.

Defaults, chosen by measurement
-------------------------------
n_startup_jobs=8, n_ei_candidates=24, gamma=0.1, constant_liar_type="predicted", PRIOR_WEIGHT=2,
BANDWIDTH_SCALE=0.4, TOP_WEIGHT=2 and BELIEVED_WEIGHT=0.3 were chosen one change at a time, on the
mean regret of benchmarks/search_quality.py's problems over 100-200 seeds. The
chosen point beats optuna's default TPESampler on all four problems at 30 and 100 trials, and its
neighbours one knob away are within noise of it. For trials still running, ``worst`` is the best
of NNI's constant liars here (NNI's default is ``best``), and a lie per trial predicted by a GP
(the believer) is better still, provided a running trial believed good weighs less than a result
(believed in full, it narrows the search). The tables, what was tried and dropped, and the
concurrency figures are in benchmarks/results/tpe_defaults.txt.
"""

from __future__ import annotations

import itertools
import math
from typing import Any, Iterable, Iterator, Mapping, Sequence

import numpy as np

from ..class_args import require_int, require_number, require_one_of
from ..space import Choice, RandInt, SearchSpace
from ..trial import Trial
from .base import Tuner, config_key
from .believer import LossBeliever

#: "predicted": the kriging believer (believer.py); the others are NNI's constant liars.
LIAR_TYPES = ("predicted", "best", "worst", "mean")

#: Weight of the prior component in each mixture (every point weighs 1 to TOP_WEIGHT).
PRIOR_WEIGHT = 2.0
#: Multiplier of Scott's rule for the numeric bandwidths (in unit-cube coordinates).
BANDWIDTH_SCALE = 0.4
#: The narrowest numeric bandwidth, so that repeated good points do not collapse a kernel.
MIN_BANDWIDTH = 0.01
#: Weight of the best point of the good set; weights fall linearly with rank to 1 for its worst.
TOP_WEIGHT = 2.0
#: Weight in the good set of a running trial that the believer predicts good, relative to a finished
#: trial of the same rank (measured: 1 narrows the search on Rosenbrock, see tpe_defaults.txt).
BELIEVED_WEIGHT = 0.3
#: randint with more values than this gets a numeric (ordinal) kernel instead of a categorical one.
MAX_CATEGORICAL_RANDINT = 32
#: Random draws tried when every candidate of the model is a configuration still running.
_MAX_RANDOM_TRIES = 100
_LOG_SQRT_2PI = 0.5 * math.log(2 * math.pi)


def _option_count(dist) -> int:
    """Options of a dimension modelled by a categorical kernel; 0 for one modelled on a numeric axis.

    choice is categorical; so is randint up to MAX_CATEGORICAL_RANDINT values (NNI's view of it),
    beyond which its order matters more than its identity and a numeric kernel generalises.
    """
    if isinstance(dist, Choice):
        return len(dist.options)
    if isinstance(dist, RandInt) and dist.high - dist.low <= MAX_CATEGORICAL_RANDINT:
        return dist.high - dist.low
    return 0


class _Layout:
    """How the flattened dimensions are modelled.

    A point is a row over ``space.dimensions``: the unit-cube coordinate of a numeric dimension (as
    ``SearchSpace.encode`` maps it), the option index of a categorical one, NaN where inactive.
    """

    def __init__(self, space: SearchSpace):
        dims = space.dimensions
        self.space = space
        self.n_options = np.array([_option_count(d.distribution) for d in dims], dtype=int)
        self.categorical = self.n_options > 0
        self.numeric = ~self.categorical
        self.categorical_options = self.n_options[self.categorical]
        self.conditions = [d.conditions for d in dims]

    @property
    def size(self) -> int:
        return len(self.n_options)

    def point(self, config: Mapping[str, Any]) -> np.ndarray:
        unit = self.space.encode(config)
        cat, k = self.categorical, self.categorical_options
        unit[cat] = np.minimum(np.floor(unit[cat] * k), k - 1)
        return unit

    def config(self, point: np.ndarray) -> dict[str, Any]:
        unit = point.astype(float)
        unit[self.categorical] = (point[self.categorical] + 0.5) / self.categorical_options
        return self.space.decode(unit)

    def believer_inputs(self, points: np.ndarray) -> np.ndarray:
        """Points as the believer's GP reads them: options spread over [0, 1], -1 where inactive
        (a point on another branch is far on that axis)."""
        rows = points.astype(float)
        rows[:, self.categorical] /= np.maximum(self.categorical_options - 1, 1)
        return np.nan_to_num(rows, nan=-1.0)

    def deactivate(self, points: np.ndarray) -> np.ndarray:
        """Set to NaN the dimensions whose branch the points' choices did not take (parents first)."""
        active = np.ones(points.shape, dtype=bool)
        for d, conditions in enumerate(self.conditions):
            for parent, option in conditions:
                active[:, d] &= active[:, parent] & (points[:, parent] == option)
        points[~active] = np.nan
        return points


class _ParzenEstimator:
    """A mixture of product kernels, one per point, plus the prior as one more component.

    The prior component is a point with every dimension inactive: wherever a point is inactive its
    kernel is the prior (density 1 on [0, 1], 1/K over K options), so densities of candidates on
    different branches stay comparable through l(x) / g(x).
    """

    def __init__(self, points: np.ndarray, weights: np.ndarray, layout: _Layout):
        self.layout = layout
        points = np.vstack([points, np.full((1, layout.size), np.nan)])
        mixture = np.append(weights, PRIOR_WEIGHT)
        self.mixture = mixture / mixture.sum()
        self._fit_numeric(points[:, layout.numeric])
        self._fit_categorical(points[:, layout.categorical])

    # --- fitting --------------------------------------------------------------------------------
    def _fit_numeric(self, values: np.ndarray) -> None:
        self.numeric_active = ~np.isnan(values)
        self.mu = np.where(self.numeric_active, values, 0.5)
        self.sigma = np.broadcast_to(_scott_bandwidths(values), values.shape)
        from scipy import special  # at first use: scipy.special adds ~0.2 s to a study that never models

        self.cdf_low = special.ndtr(-self.mu / self.sigma)
        self.cdf_mass = special.ndtr((1 - self.mu) / self.sigma) - self.cdf_low
        # sum_d ((x_d - mu_d) / sigma_d)^2 + 2 log(normaliser_d), expanded into matrix products;
        # every term is zero where the prior applies.
        log_normaliser = np.log(self.cdf_mass) + np.log(self.sigma) + _LOG_SQRT_2PI
        self.precision = np.where(self.numeric_active, self.sigma**-2, 0.0)
        self.mu_precision = self.mu * self.precision
        self.constant = np.where(self.numeric_active, self.mu**2 * self.precision + 2 * log_normaliser, 0.0)

    def _fit_categorical(self, values: np.ndarray) -> None:
        """Per categorical dimension: each point's option index (-1: inactive) and the smoothing."""
        self.categories = []
        for column, k in zip(values.T, self.layout.categorical_options):
            observed = np.where(np.isnan(column), -1, column).astype(int)
            self.categories.append((observed, k / (k + int(np.sum(observed >= 0)))))

    # --- sampling -------------------------------------------------------------------------------
    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        component = rng.choice(len(self.mixture), size=size, p=self.mixture)
        points = np.empty((size, self.layout.size))
        points[:, self.layout.numeric] = self._sample_numeric(rng, component)
        points[:, self.layout.categorical] = self._sample_categorical(rng, component)
        return self.layout.deactivate(points)

    def _sample_numeric(self, rng: np.random.Generator, component: np.ndarray) -> np.ndarray:
        from scipy import special  # imported by _fit_numeric already; local for the same reason

        uniform = rng.random((len(component), self.mu.shape[1]))
        # The truncated normal by its inverse CDF; where the prior applies, the uniform draw itself.
        quantile = self.cdf_low[component] + uniform * self.cdf_mass[component]
        kernel = self.mu[component] + self.sigma[component] * special.ndtri(quantile)
        return np.where(self.numeric_active[component], np.clip(kernel, 0.0, 1.0), uniform)

    def _sample_categorical(self, rng: np.random.Generator, component: np.ndarray) -> np.ndarray:
        out = np.empty((len(component), len(self.categories)))
        for j, ((observed, smoothing), k) in enumerate(zip(self.categories, self.layout.categorical_options)):
            drawn = rng.integers(k, size=len(component))
            keep = (observed[component] >= 0) & (rng.random(len(component)) >= smoothing)
            out[:, j] = np.where(keep, observed[component], drawn)
        return out

    # --- scoring --------------------------------------------------------------------------------
    def log_pdf(self, points: np.ndarray) -> np.ndarray:
        """log density of each point (NaN: inactive dimension), all components at once."""
        numeric = points[:, self.layout.numeric]
        active = ~np.isnan(numeric)
        x = np.where(active, numeric, 0.0)
        quadratic = (x * x) @ self.precision.T - 2 * x @ self.mu_precision.T + active @ self.constant.T
        log_kernel = -0.5 * quadratic
        for column, (observed, smoothing), k in zip(
            points[:, self.layout.categorical].T, self.categories, self.layout.categorical_options
        ):
            log_kernel += _categorical_log_kernel(column, observed, smoothing, k)
        log_kernel += np.log(self.mixture)
        peak = log_kernel.max(axis=1)
        return peak + np.log(np.exp(log_kernel - peak[:, None]).sum(axis=1))


def _categorical_log_kernel(column: np.ndarray, observed: np.ndarray, smoothing: float, k: int) -> np.ndarray:
    """log p(candidate option | point) for every (candidate, point) pair; 0 where the candidate is inactive.

    A point keeps its own option with probability 1 - smoothing and spreads the rest evenly; an
    inactive point (and the prior) is uniform over the k options.
    """
    same = column[:, None] == observed[None, :]
    log_kernel = np.where(same, math.log(1 - smoothing + smoothing / k), math.log(smoothing / k))
    log_kernel[:, observed < 0] = -math.log(k)
    log_kernel[np.isnan(column)] = 0.0
    return log_kernel


def _scott_bandwidths(values: np.ndarray) -> np.ndarray:
    """Per-dimension bandwidth: Scott's rule on the active values, their variance shrunk towards the
    uniform prior's (1/12) with PRIOR_WEIGHT pseudo-points, so that one or two points do not collapse it."""
    n = np.sum(~np.isnan(values), axis=0)
    mean = np.nansum(values, axis=0) / np.maximum(n, 1)
    squares = np.nansum((values - mean) ** 2, axis=0)
    variance = (squares + PRIOR_WEIGHT / 12) / (n + PRIOR_WEIGHT)
    sigma = BANDWIDTH_SCALE * np.sqrt(variance) * np.maximum(n, 1) ** (-1.0 / (values.shape[1] + 4))
    return np.clip(sigma, MIN_BANDWIDTH, 1.0)


class TPETuner(Tuner):
    """Tree-structured Parzen Estimator: multivariate, vectorised, with a constant liar.

    classArgs (defaults chosen by measurement: benchmarks/results/tpe_defaults.txt):
        n_startup_jobs: configurations of the Sobol start-up design, before the model is used.
        n_ei_candidates: candidates drawn from l(x) and ranked by l(x) / g(x) per suggestion.
        gamma: fraction of the trials (rounded up) that forms the good set l(x).
        constant_liar_type: the loss assumed for trials still running: "predicted" (each one's
            loss predicted by a Gaussian process on the finished trials, the kriging believer of
            believer.py), or NNI's constant liars "worst", "best" or "mean" of the observed losses.

    Example:
        >>> tuner = TPETuner({"x": {"_type": "uniform", "_value": [0, 1]}}, seed=0)
        >>> [config] = tuner.suggest(1)
    """

    def __init__(
        self,
        space: SearchSpace | Mapping,
        *,
        optimize_mode: str = "maximize",
        seed: int | None = None,
        n_startup_jobs: int = 8,
        n_ei_candidates: int = 24,
        gamma: float = 0.1,
        constant_liar_type: str = "predicted",
    ):
        super().__init__(space, optimize_mode=optimize_mode, seed=seed)
        self.n_startup_jobs = require_int("TPE", "n_startup_jobs", n_startup_jobs, minimum=0)
        self.n_ei_candidates = require_int("TPE", "n_ei_candidates", n_ei_candidates, minimum=1)
        self.gamma = require_number("TPE", "gamma", gamma, above=0, below=1,
                                    why="the fraction of trials in the good set")
        self.constant_liar_type = require_one_of("TPE", "constant_liar_type", constant_liar_type, LIAR_TYPES)
        self._believer = LossBeliever() if constant_liar_type == "predicted" else None
        self._layout = _Layout(self.space)
        self._observed_points = _GrowingRows(self._layout.size)
        self._observed_losses = _GrowingRows(None)
        self._tried: set[str] = set()
        self._design: list[dict[str, Any]] | None = None

    # --- the protocol ---------------------------------------------------------------------------
    def _observe(self, trial: Trial) -> None:
        self._tried.add(config_key(trial.params))
        loss = self.loss(trial)
        if loss is not None and math.isfinite(loss):
            self._observed_points.append(self._layout.point(trial.params))
            self._observed_losses.append(loss)

    @property
    def _points(self) -> np.ndarray:
        return self._observed_points.view

    @property
    def _losses(self) -> np.ndarray:
        return self._observed_losses.view

    def _suggest(self, n: int) -> list[dict[str, Any]]:
        chosen: list[dict[str, Any]] = []
        for _ in range(n):
            config = self._suggest_one(list(self.pending) + chosen)
            if config is None:
                break
            chosen.append(config)
        return chosen

    def _suggest_one(self, running: list[dict[str, Any]]) -> dict[str, Any] | None:
        if not len(self._losses) or len(self._losses) + len(running) < self.n_startup_jobs:
            preferred: Iterable[dict[str, Any]] = self._startup_design()
        else:
            preferred = self._ranked_candidates(running)
        return self._first_new(preferred, {config_key(c) for c in running})

    def _first_new(self, preferred: Iterable[dict[str, Any]], running: set[str]) -> dict[str, Any] | None:
        """The first configuration neither running nor tried before; failing that, one not running.

        ``preferred`` is followed by random draws, for discrete spaces where every preferred one runs.
        """
        fallback = None
        for config in itertools.chain(preferred, self._random_configs()):
            key = config_key(config)
            if key in running:
                continue
            if key not in self._tried:
                return config
            fallback = fallback or config
        return fallback

    def _random_configs(self) -> Iterator[dict[str, Any]]:
        for _ in range(_MAX_RANDOM_TRIES):
            yield self.space.sample(self.rng)

    def _startup_design(self) -> Iterator[dict[str, Any]]:
        """The scrambled Sobol points not handed out yet (drawn once, from ``self.rng``)."""
        if self._design is None:
            # At first use: scipy.stats takes ~0.5 s to import, which creating a study should not pay.
            from scipy.stats import qmc

            m = max(self.n_startup_jobs - 1, 0).bit_length()
            sobol = qmc.Sobol(self._layout.size, scramble=True, seed=self.rng).random_base2(m)
            self._design = [self.space.decode(unit) for unit in sobol[: self.n_startup_jobs]]
        while self._design:
            yield self._design.pop(0)

    # --- the model ------------------------------------------------------------------------------
    def _ranked_candidates(self, running: Sequence[dict[str, Any]]) -> Iterator[dict[str, Any]]:
        points, losses = self._points_with_lies(running)
        order = np.argsort(losses, kind="stable")
        n_good = math.ceil(self.gamma * len(losses))
        good, bad = points[order[:n_good]], points[order[n_good:]]
        weights = _rank_weights(n_good)
        if self._believer is not None:  # a predicted loss is less sure than a result
            weights[order[:n_good] >= len(self._losses)] *= BELIEVED_WEIGHT
        below = _ParzenEstimator(good, weights, self._layout)
        above = _ParzenEstimator(bad, np.ones(len(bad)), self._layout)
        candidates = below.sample(self.rng, self.n_ei_candidates)
        score = below.log_pdf(candidates) - above.log_pdf(candidates)
        for index in np.argsort(-score, kind="stable"):
            yield self._layout.config(candidates[index])

    def _points_with_lies(self, running: Sequence[dict[str, Any]]) -> tuple[np.ndarray, np.ndarray]:
        if not running:
            return self._points, self._losses
        losses = self._losses
        lied = np.vstack([self._layout.point(config) for config in running])
        lies = None
        if self._believer is not None:
            inputs = self._layout.believer_inputs
            lies = self._believer.predict(inputs(self._points), losses, inputs(lied))
        if lies is None:  # a constant liar, or too few trials for the believer: the worst loss
            kind = "worst" if self._believer is not None else self.constant_liar_type
            lies = np.full(len(running), {"best": losses.min, "worst": losses.max, "mean": losses.mean}[kind]())
        return np.vstack([self._points, lied]), np.append(losses, lies)


class _GrowingRows:
    """Rows (``width`` columns, or scalars for None) appended in amortised O(1): the capacity
    doubles, so observing N trials costs O(N), not the O(N^2) of a ``vstack`` per trial.
    ``view`` is the filled part, read-only to its users."""

    def __init__(self, width: int | None):
        self._data = np.empty((16, width) if width is not None else 16)
        self._size = 0

    def append(self, row: Any) -> None:
        if self._size == len(self._data):
            grown = np.empty((2 * len(self._data), *self._data.shape[1:]))
            grown[: self._size] = self._data
            self._data = grown
        self._data[self._size] = row
        self._size += 1

    @property
    def view(self) -> np.ndarray:
        return self._data[: self._size]


def _rank_weights(n: int) -> np.ndarray:
    """TOP_WEIGHT for the best good point down to 1 for the worst; a lone good point weighs 1."""
    return np.linspace(TOP_WEIGHT, 1.0, n) if n > 1 else np.ones(n)
