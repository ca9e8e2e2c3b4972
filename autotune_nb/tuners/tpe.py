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
On benchmarks/search_quality.py's problems, mean regret after 30 / 100 trials, seeds 100-159 (first
rows) then 100-199 (not the benchmark's seeds 0-19), optuna 5's default TPESampler in the same runs.
The path, one change kept at a time:

    step                                   Ackley 30/100  Branin 30/100   Hartmann6 30/100  Rosenbrock 30/100
    optuna (seeds 100-159)                 14.5 / 6.66    0.85 / 0.046    1.00 / 0.160      1852 / 139
    start: Scott x1.0, prior weight 1,     15.0 / 6.84    0.60 / 0.037    0.88 / 0.253      2856 / 251
      equal weights, random start-up 10
    Scott x0.5                             14.7 / 5.01    0.30 / 0.0060   0.75 / 0.179      2561 / 152
    + prior weight 2                       14.6 / 5.12    0.35 / 0.011    0.69 / 0.126      1780 / 154
    optuna (seeds 100-199)                 14.8 / 6.70    0.82 / 0.041    1.02 / 0.203      2098 / 177
    the same (seeds 100-199)               14.5 / 5.21    0.30 / 0.0099   0.73 / 0.121      1717 / 135
    + good points weighted by rank 2..1    14.1 / 4.92    0.22 / 0.0073   0.74 / 0.119      2078 / 136
    + Sobol start-up                       13.5 / 4.93    0.29 / 0.0085   0.79 / 0.100      1272 / 125
    + Scott x0.4, start-up 8: CHOSEN       13.1 / 4.78    0.24 / 0.0032   0.79 / 0.093      1049 / 94

One knob away from the chosen point (seeds 100-199):

    Latin hypercube start-up               13.1 / 4.36    0.19 / 0.0025   0.69 / 0.140      1173 / 125
    Scott x0.3                             13.8 / 4.95    0.36 / 0.0040   0.85 / 0.143       902 / 99
    PRIOR_WEIGHT 1.5 | 3                   13.3 / 4.95    0.30 / 0.0081   0.83 / 0.100      1002 / 126
                                           12.9 / 4.85    0.30 / 0.0075   0.76 / 0.102       968 / 92
    gamma 0.07 | 0.15                      13.4 / 5.28    0.28 / 0.0056   0.74 / 0.114      1107 / 155
                                           13.8 / 4.83    0.25 / 0.0033   0.85 / 0.201      1321 / 117
    n_startup_jobs 5 | 12                  13.3 / 4.80    0.21 / 0.0044   0.73 / 0.099       954 / 122
                                           13.6 / 4.41    0.29 / 0.0044   0.81 / 0.113      1268 / 99
    n_ei_candidates 48                     13.4 / 4.46    0.29 / 0.0106   0.85 / 0.113       976 / 103
    TOP_WEIGHT 1.5 | 3                     12.6 / 4.55    0.29 / 0.0064   0.74 / 0.130      1062 / 93
                                           12.9 / 4.69    0.27 / 0.0031   0.75 / 0.121      1378 / 105

Standard errors at 100 seeds are about 0.35 / 0.15 (Ackley), 0.05 / 0.001 (Branin), 0.06 / 0.01
(Hartmann6), 100-200 / 20 (Rosenbrock): the neighbours are within noise of the chosen point, which
has no cell clearly worse than a neighbour's and beats optuna in every cell. Also measured and
dropped: n_ei_candidates 64 and 128, gamma 0.25 (worse everywhere on 20 seeds); bandwidths from each
point's nearest neighbours (adaptive kernels: Hartmann6@100 0.46, Rosenbrock@100 287); shrinking
l(x)'s bandwidth with the number of all trials instead of the good set's size (worse on all four);
the minimum bandwidth and a cap on the good set's size did not bind within 100 trials.
The defaults: n_startup_jobs=8, n_ei_candidates=24, gamma=0.1, constant_liar_type="predicted",
PRIOR_WEIGHT=2, BANDWIDTH_SCALE=0.4, TOP_WEIGHT=2 (the categorical smoothing K / (K + n) was checked
on the Mixed-5D problem only: regret 0.92 / 0.021 against optuna's 1.71 / 0.57, 50 seeds).

constant_liar_type (4 suggestions asked before any result, same seeds), mean regret at 30 / 100:

    worst  Ackley 15.2 / 5.42   Branin 0.32 / 0.0037   Hartmann6 1.05 / 0.196   Rosenbrock 2436 / 140
    mean   (same as worst: the mean loss also falls in the bad set)
    best   Ackley 15.8 / 6.55   Branin 0.52 / 0.0094   Hartmann6 1.11 / 0.271   Rosenbrock 3128 / 164

so among NNI's constant liars ``worst`` is best here (NNI's default is ``best``): a running trial
widens g(x) where it runs and the next suggestions look elsewhere. Giving running trials more weight
in g(x), ignoring them, or adding them to the good set were no better; nor (on 60-200 seeds from 100
or 2000) were: both sets weighted by the modelled p(good | x), a penalty near running trials at
l(x)'s bandwidth, later batch members drawn away from the good points the running ones came from,
narrower l(x) kernels for them, a kernel regression of the losses as the lie, other gamma,
n_ei_candidates and n_startup_jobs.

What helped is a lie per running trial: its loss as a GP predicts it (``predicted``, the default).
Believed in full, a running trial predicted good pulls l(x) towards itself and narrows the search
(Rosenbrock-5D, seeds 3000-3199, mean regret at 100 trials: sequential 88, worst 108, predicted 149);
in the good set it therefore weighs BELIEVED_WEIGHT times a finished trial of its rank (0.3: 117; 0:
131; Hartmann6 at 100, seeds 1000-1199: 0.3 0.132, 0 0.157, 1 0.169, worst 0.195). TPE@4 / TPE mean
regret ratio on 200 seeds after 30 / 100 trials (benchmarks/results/concurrency.txt):

    liar, seeds                 Branin        Hartmann6     Rosenbrock-5D  Ackley-5D
    worst, 1000-1199            1.35 / 2.15   1.49 / 1.67   1.66 / 1.11    1.16 / 1.21
    predicted, 1000-1199        1.18 / 1.32   1.37 / 1.13   1.67 / 1.22    1.11 / 1.10
    worst, 2000-2199            1.01 / 0.90   1.43 / 1.59   1.87 / 0.96    1.15 / 1.16
    predicted, 2000-2199        1.06 / 1.24   1.33 / 1.30   2.00 / 0.95    1.13 / 1.10

Branin's and Rosenbrock's intervals are about +-0.3 to +-0.6 (heavy tails); Hartmann6 and Ackley-5D
gain on both seed sets (Mixed-5D, 100 seeds: worst 1.33 / 2.71, predicted 1.24 / 2.10). The issue's
1.2x target is met in 4 of the 8 cells on either seed set: waiting for results costs information,
most in the early, fast-improving phase. What is left is the prediction's error: given the true
losses as lies (an oracle, in a scratch script), 3 trials always running cost nothing on Hartmann6
and Rosenbrock-5D (seeds 2000-2099, ratios 1.03 / 1.00 and 1.09 / 0.94 at BELIEVED_WEIGHT 0.3), so a
better predictor of a running trial's loss from few trials is where to look next. After the same number of rounds (n trials 4 at once against
n / 4 one at a time) the ratio is 0.01-0.72.

The benchmark's own run (benchmarks/results/search_quality.txt: seeds 0-19, SVC-digits 5 seeds),
mean regret at 30 / 100 trials:

    tuner          Branin          Hartmann6       Rosenbrock-5D   Ackley-5D      SVC-digits
    TPE            0.16 / 0.0012   0.55 / 0.072    1032 / 62       11.7 / 4.73    0.00045 / 0.00045
    TPE, 4 at once 0.37 / 0.0023   0.93 / 0.079    859 / 114       14.0 / 4.82    0.00056 / 0.00022
    optuna TPE     0.50 / 0.024    0.90 / 0.141    1531 / 184      14.9 / 6.73    0.00067 / 0.00045
    hyperopt TPE   1.50 / 0.298    1.55 / 0.648    8633 / 1361     17.4 / 13.8    0.00100 / 0.00033
"""

from __future__ import annotations

import itertools
import math
from typing import Any, Iterable, Iterator, Mapping, Sequence

import numpy as np
from scipy import special
from scipy.stats import qmc

from ..class_args import require_int
from ..errors import ConfigurationError
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
#: trial of the same rank (chosen by measurement, see above: 1 narrows the search on Rosenbrock).
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

    classArgs (defaults chosen by measurement, see the module docstring):
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
        self.gamma = _check_gamma(gamma)
        if constant_liar_type not in LIAR_TYPES:
            raise ConfigurationError(
                f"TPE: constant_liar_type must be one of {', '.join(LIAR_TYPES)}, got {constant_liar_type!r}"
            )
        self.constant_liar_type = constant_liar_type
        self._believer = LossBeliever() if constant_liar_type == "predicted" else None
        self._layout = _Layout(self.space)
        self._points = np.empty((0, self._layout.size))
        self._losses = np.empty(0)
        self._tried: set[str] = set()
        self._design: list[dict[str, Any]] | None = None

    # --- the protocol ---------------------------------------------------------------------------
    def _observe(self, trial: Trial) -> None:
        self._tried.add(config_key(trial.params))
        loss = self.loss(trial)
        if loss is not None and math.isfinite(loss):
            self._points = np.vstack([self._points, self._layout.point(trial.params)])
            self._losses = np.append(self._losses, loss)

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


def _rank_weights(n: int) -> np.ndarray:
    """TOP_WEIGHT for the best good point down to 1 for the worst; a lone good point weighs 1."""
    return np.linspace(TOP_WEIGHT, 1.0, n) if n > 1 else np.ones(n)


def _check_gamma(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value < 1:
        raise ConfigurationError(
            f"TPE: gamma is the fraction of trials in the good set and must be in (0, 1), got {value!r}"
        )
    return float(value)
