"""Gaussian-process Bayesian optimisation (NNI's ``GPTuner``), on numpy and scipy only.

The model: the standardised losses are a Gaussian process over the unit-cube encoding of the space
(``SearchSpace.encode``) with a constant mean, a Matern kernel with one length scale per dimension
(ARD) and a noise term. The hyperparameters maximise the log marginal likelihood (L-BFGS-B within
bounds, warm-started from the previous fit, every fifth fit also from a random point); the constant
mean is profiled out in closed form. A single shared length scale was measured no faster and much
worse where some dimensions do not matter (Branin plus three dummy dimensions).

A suggestion maximises the acquisition (``utility``: ``ei``, ``ucb`` or ``poi``) over
``selection_num_warm_up`` random points, refines the ``selection_num_starting_points`` best of them
with L-BFGS-B, then rounds the refined points to legal values and scores them again.

Pending configurations are fantasised at the best loss seen so far (a constant liar) so that the
suggestions of a batch spread out: in batches of 4 it found better optima than a liar at the mean loss
on 3 of 4 benchmarks. No suggestion repeats a pending or finished configuration (failed ones included).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from typing import Any, ContextManager

import numpy as np
import threadpoolctl
from scipy import linalg, optimize, special

from ..class_args import require_int, require_number
from ..errors import ConfigurationError, UnsupportedSpaceError
from ..space import Choice, SearchSpace
from ..trial import Trial
from .base import Tuner, config_key

UTILITIES = ("ei", "ucb", "poi")
MATERN_NU = (0.5, 1.5, 2.5)

# Hyperparameter bounds, on the log scale: inputs live in the unit cube and targets are standardised.
_LOG_LENGTH_BOUNDS = (math.log(1e-2), math.log(20.0))
_LOG_SIGNAL_BOUNDS = (math.log(5e-2), math.log(20.0))
_LOG_NOISE_BOUNDS = (math.log(1e-6), math.log(1.0))
_FIT_MAXITER = 60
_REFINE_MAXITER = 50
_MAX_JITTER_TRIES = 8
_RESTART_EVERY = 5


@functools.cache
@functools.lru_cache(maxsize=1)
def _blas_controller() -> threadpoolctl.ThreadpoolController:
    """Built once: scanning the loaded libraries costs far more than a limit() call."""
    return threadpoolctl.ThreadpoolController()


def single_threaded_blas() -> ContextManager:
    """The GP's matrices are small (one row per trial): BLAS threads only add synchronisation,
    which costs 5-20x when trial workers keep the cores busy (measured: 30 ms vs 400-700 ms per
    suggestion at 100 observations on 2 busy cores)."""
    return _blas_controller().limit(limits=1, user_api="blas")


# --- the kernel --------------------------------------------------------------------------------
def _matern(r: np.ndarray, nu: float) -> tuple[np.ndarray, np.ndarray]:
    """The unit-variance Matern kernel ``f(r)`` and ``g(r) = -f'(r) / r`` (finite at r = 0).

    ``g`` gives every derivative needed: d k / d log(l_j) = g * (x_j - x'_j)**2 / l_j**2 and
    d k / d x_j = -g * (x_j - x'_j) / l_j**2.
    """
    if nu == 0.5:
        f = np.exp(-r)
        return f, np.divide(f, r, out=np.zeros_like(r), where=r > 0)
    if nu == 1.5:
        e = np.exp(-math.sqrt(3) * r)
        return (1 + math.sqrt(3) * r) * e, 3 * e
    e = np.exp(-math.sqrt(5) * r)
    return (1 + math.sqrt(5) * r + 5 / 3 * r**2) * e, 5 / 3 * (1 + math.sqrt(5) * r) * e


def _scaled_distance(a: np.ndarray, b: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Euclidean distances between the rows of ``a`` and ``b`` after dividing by the length scales."""
    a, b = a / lengths, b / lengths
    sq = (a**2).sum(1)[:, None] + (b**2).sum(1)[None, :] - 2 * a @ b.T
    return np.sqrt(np.maximum(sq, 0.0))


def _cholesky(matrix: np.ndarray) -> np.ndarray:
    """Lower Cholesky factor, adding diagonal jitter (growing tenfold) until it succeeds."""
    jitter = 0.0
    scale = float(np.mean(np.diag(matrix)))
    for _ in range(_MAX_JITTER_TRIES):
        try:
            return linalg.cholesky(matrix + jitter * np.eye(len(matrix)), lower=True, check_finite=False)
        except linalg.LinAlgError:
            jitter = scale * 1e-9 if jitter == 0.0 else jitter * 10
    raise linalg.LinAlgError("kernel matrix is not positive definite even with jitter")


def _inverse_from_cholesky(chol: np.ndarray) -> np.ndarray:
    lower, info = linalg.lapack.dpotri(chol, lower=1)
    if info != 0:
        raise linalg.LinAlgError(f"cannot invert the kernel matrix (LAPACK dpotri info={info})")
    return np.tril(lower) + np.tril(lower, -1).T


class Hyperparameters:
    """ARD length scales, signal variance and noise variance, packed as one log-scale vector."""

    def __init__(self, theta: np.ndarray):
        self.theta = np.asarray(theta, dtype=float)
        self.lengths = np.exp(self.theta[:-2])
        self.signal = math.exp(self.theta[-2])
        self.noise = math.exp(self.theta[-1])

    @staticmethod
    def bounds(dims: int) -> list[tuple[float, float]]:
        return [_LOG_LENGTH_BOUNDS] * dims + [_LOG_SIGNAL_BOUNDS, _LOG_NOISE_BOUNDS]

    @staticmethod
    def initial(dims: int) -> np.ndarray:
        return np.array([math.log(0.5)] * dims + [0.0, math.log(1e-2)])


class Posterior:
    """The GP conditioned on ``(x, y)``: the constant mean is the generalised least-squares estimate."""

    def __init__(self, x: np.ndarray, y: np.ndarray, hyper: Hyperparameters, nu: float, alpha: float):
        self.x, self.hyper, self.nu = x, hyper, nu
        f, self._g = _matern(_scaled_distance(x, x, hyper.lengths), nu)
        self._f = f
        kernel = hyper.signal * f + (hyper.noise + alpha) * np.eye(len(x))
        self.chol = _cholesky(kernel)
        solved_ones = linalg.cho_solve((self.chol, True), np.ones(len(x)), check_finite=False)
        self.mean = float(solved_ones @ y / solved_ones.sum())
        self.weights = linalg.cho_solve((self.chol, True), y - self.mean, check_finite=False)
        self.residual = y - self.mean

    # --- marginal likelihood ------------------------------------------------------------------
    def negative_log_likelihood(self) -> float:
        n = len(self.x)
        return float(0.5 * self.residual @ self.weights + np.log(np.diag(self.chol)).sum()
                     + 0.5 * n * math.log(2 * math.pi))

    def likelihood_gradient(self) -> np.ndarray:
        """Gradient of the negative log likelihood in the log hyperparameters (mean profiled out)."""
        hyper = self.hyper
        inverse = _inverse_from_cholesky(self.chol)
        outer = np.outer(self.weights, self.weights) - inverse
        weighted_g = outer * self._g
        grad_lengths = np.array([
            (weighted_g * (column[:, None] - column[None, :]) ** 2).sum() / length**2
            for column, length in zip(self.x.T, hyper.lengths)
        ])
        return -0.5 * np.concatenate([
            hyper.signal * grad_lengths,
            [hyper.signal * (outer * self._f).sum(), hyper.noise * np.trace(outer)],
        ])

    # --- prediction ---------------------------------------------------------------------------
    def predict(self, points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Posterior mean and standard deviation of the latent function at ``points``."""
        f, _ = _matern(_scaled_distance(points, self.x, self.hyper.lengths), self.nu)
        cross = self.hyper.signal * f
        mean = self.mean + cross @ self.weights
        half = linalg.solve_triangular(self.chol, cross.T, lower=True, check_finite=False)
        return mean, self._std(self.hyper.signal - (half**2).sum(0))

    def predict_with_gradient(self, points: np.ndarray) -> tuple[np.ndarray, ...]:
        """Mean, std and their gradients in ``points`` (shape ``(m, d)`` each)."""
        hyper = self.hyper
        diff = points[:, None, :] - self.x[None, :, :]
        f, g = _matern(np.sqrt(((diff / hyper.lengths) ** 2).sum(-1)), self.nu)
        cross = hyper.signal * f
        cross_grad = -hyper.signal * g[:, :, None] * diff / hyper.lengths**2
        solved = linalg.cho_solve((self.chol, True), cross.T, check_finite=False).T
        mean = self.mean + cross @ self.weights
        std = self._std(hyper.signal - (cross * solved).sum(1))
        mean_grad = np.einsum("mnd,n->md", cross_grad, self.weights)
        std_grad = -np.einsum("mnd,mn->md", cross_grad, solved) / std[:, None]
        return mean, std, mean_grad, std_grad

    @staticmethod
    def _std(variance: np.ndarray) -> np.ndarray:
        return np.sqrt(np.maximum(variance, 1e-12))


def fit_hyperparameters(x: np.ndarray, y: np.ndarray, nu: float, alpha: float,
                        starts: list[np.ndarray]) -> Hyperparameters:
    """The hyperparameters of largest marginal likelihood, from each of ``starts`` in turn."""
    bounds = Hyperparameters.bounds(x.shape[1])

    def objective(theta: np.ndarray) -> tuple[float, np.ndarray]:
        try:
            posterior = Posterior(x, y, Hyperparameters(theta), nu, alpha)
        except linalg.LinAlgError:
            return 1e25, np.zeros_like(theta)
        return posterior.negative_log_likelihood(), posterior.likelihood_gradient()

    best_theta, best_value = starts[0], math.inf
    for start in starts:
        result = optimize.minimize(objective, start, jac=True, method="L-BFGS-B", bounds=bounds,
                                   options={"maxiter": _FIT_MAXITER})
        if np.all(np.isfinite(result.x)) and result.fun < best_value:
            best_theta, best_value = result.x, result.fun
    return Hyperparameters(best_theta)


# --- acquisition -------------------------------------------------------------------------------
def _acquisition(utility: str, mean: np.ndarray, std: np.ndarray, best: float, kappa: float,
                 xi: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The utility of predicting ``mean`` ± ``std`` for a loss (larger is better), and its partial
    derivatives in the mean and the std."""
    if utility == "ucb":
        # Losses are minimised: the upper confidence bound of -loss.
        return -mean + kappa * std, -np.ones_like(mean), np.full_like(std, kappa)
    improvement = best - mean - xi
    z = improvement / std
    cdf = special.ndtr(z)
    pdf = np.exp(-0.5 * z**2) / math.sqrt(2 * math.pi)
    if utility == "ei":
        return improvement * cdf + std * pdf, -cdf, pdf
    return cdf, -pdf / std, -pdf * z / std


# --- the tuner ---------------------------------------------------------------------------------
class GPTuner(Tuner):
    """Bayesian optimisation with a Gaussian process, NNI's ``GPTuner`` and its classArgs.

    Args:
        utility: the acquisition, ``"ei"`` (expected improvement), ``"ucb"`` (upper confidence
            bound) or ``"poi"`` (probability of improvement).
        kappa: the weight of the uncertainty in ``ucb``; larger explores more.
        xi: the margin of improvement ``ei`` and ``poi`` ask for, in the objective's units;
            larger explores more.
        nu: the Matern kernel's smoothness: 0.5, 1.5 or 2.5 (smoothest).
        alpha: variance added to the kernel's diagonal (standardised units) on top of the fitted
            noise, for numerical stability.
        cold_start_num: the number of random suggestions before the model is used.
        selection_num_warm_up: random points scored by the acquisition for each suggestion.
        selection_num_starting_points: the best of those refined with L-BFGS-B.

    Example:
        >>> tuner = GPTuner({"x": {"_type": "uniform", "_value": [-1, 1]}}, optimize_mode="minimize", seed=0)
        >>> [config] = tuner.suggest(1)
    """

    supported_types = frozenset({"uniform", "quniform", "loguniform", "qloguniform", "randint", "normal",
                                 "qnormal", "lognormal", "qlognormal", "choice"})
    supports_nested = False

    def __init__(self, space: SearchSpace | dict, *, optimize_mode: str = "maximize", seed: int | None = None,
                 utility: str = "ei", kappa: float = 5.0, xi: float = 0.0, nu: float = 2.5,
                 alpha: float = 1e-6, cold_start_num: int = 10, selection_num_warm_up: int = 2000,
                 selection_num_starting_points: int = 10):
        super().__init__(space, optimize_mode=optimize_mode, seed=seed)
        if utility not in UTILITIES:
            raise ConfigurationError(f"GPTuner: utility must be one of {', '.join(UTILITIES)}, got {utility!r}")
        if nu not in MATERN_NU:
            raise ConfigurationError(f"GPTuner: nu must be one of 0.5, 1.5, 2.5 (Matern smoothness), got {nu!r}")
        self.utility = utility
        self.kappa = require_number("GPTuner", "kappa", kappa, minimum=0.0)
        self.xi = require_number("GPTuner", "xi", xi)
        self.nu = float(nu)
        self.alpha = require_number("GPTuner", "alpha", alpha, minimum=0.0)
        self.cold_start_num = require_int("GPTuner", "cold_start_num", cold_start_num, minimum=0)
        self.selection_num_warm_up = require_int("GPTuner", "selection_num_warm_up", selection_num_warm_up,
                                                 minimum=1)
        self.selection_num_starting_points = require_int(
            "GPTuner", "selection_num_starting_points", selection_num_starting_points, minimum=0)
        self._points: list[np.ndarray] = []  # encodings of the scored trials
        self._losses: list[float] = []
        self._theta: np.ndarray | None = None
        self._theta_for = -1  # how many observations self._theta was fitted on
        self._fits = 0

    def _check_space(self) -> None:
        for dim in self.space.dimensions:
            if isinstance(dim.distribution, Choice) and dim.distribution.is_nested:
                raise UnsupportedSpaceError(
                    f"GPTuner cannot search the nested choice {dim.key!r}: it models a fixed set of "
                    "numeric dimensions; make its options plain values or use TPE"
                )
        super()._check_space()

    # --- suggestions --------------------------------------------------------------------------
    def _suggest(self, n: int) -> list[dict[str, Any]]:
        with single_threaded_blas():
            return self._suggest_distinct(n)

    def _suggest_distinct(self, n: int) -> list[dict[str, Any]]:
        taken = {config_key(trial.params) for trial in self.history}
        taken.update(config_key(config) for config in self.pending)
        chosen: list[dict[str, Any]] = []
        for _ in range(n):
            config = self._suggest_one(taken, chosen)
            if config is None:
                break
            taken.add(config_key(config))
            chosen.append(config)
        return chosen

    def _suggest_one(self, taken: set[str], chosen: list[dict[str, Any]]) -> dict[str, Any] | None:
        x, y = self._observations()
        suggested = len(self.history) + len(self.pending) + len(chosen)
        if len(y) == 0 or suggested < self.cold_start_num:
            return self.random_config(taken)
        scale = float(y.std()) or 1.0
        standardised = (y - y.mean()) / scale
        hyper = self._hyperparameters(x, standardised)
        liars = self._encoded([*self.pending, *chosen])
        liar_values = np.full(len(liars), standardised.min())
        posterior = Posterior(np.vstack([x, liars]), np.concatenate([standardised, liar_values]),
                               hyper, self.nu, self.alpha)
        best = float(standardised.min())

        def score(points: np.ndarray) -> np.ndarray:
            value = _acquisition(self.utility, *posterior.predict(points), best, self.kappa, self.xi / scale)[0]
            return np.where(np.isfinite(value), value, -np.inf)

        def score_with_gradient(points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            mean, std, mean_grad, std_grad = posterior.predict_with_gradient(points)
            value, d_mean, d_std = _acquisition(self.utility, mean, std, best, self.kappa, self.xi / scale)
            return value, d_mean[:, None] * mean_grad + d_std[:, None] * std_grad

        for point in self._ranked_points(score, score_with_gradient, x.shape[1]):
            config = self.space.decode(point)
            if config_key(config) not in taken:
                return config
        return self.random_config(taken)

    def _ranked_points(self, score: Callable, score_with_gradient: Callable, dims: int) -> list[np.ndarray]:
        """Candidate points, best first: the refined ones (rounded to legal values) then the random ones."""
        candidates = self.rng.random((self.selection_num_warm_up, dims))
        ranked = candidates[np.argsort(-score(candidates), kind="stable")]
        if not self.selection_num_starting_points:
            return list(ranked)
        refined = self._snap(_maximise(score_with_gradient, ranked[: self.selection_num_starting_points]))
        return [*refined[np.argsort(-score(refined), kind="stable")], *ranked]

    def _snap(self, points: np.ndarray) -> np.ndarray:
        """The points moved to the legal values they decode to, so they are scored as they will run."""
        return np.array([self.space.encode(self.space.decode(point)) for point in points])

    # --- the model ----------------------------------------------------------------------------
    def _observe(self, trial: Trial) -> None:
        """Keep the encoding and loss of a scored trial; failed trials only join ``taken``."""
        loss = self.loss(trial)
        if loss is None or not math.isfinite(loss):
            return
        point = self.space.encode(trial.params)
        if np.all(np.isfinite(point)):
            self._points.append(point)
            self._losses.append(loss)

    def _observations(self) -> tuple[np.ndarray, np.ndarray]:
        return self._encoded_rows(self._points), np.array(self._losses)

    def _encoded(self, configs: list[dict[str, Any]]) -> np.ndarray:
        return self._encoded_rows([self.space.encode(config) for config in configs])

    def _encoded_rows(self, rows: list[np.ndarray]) -> np.ndarray:
        return np.array(rows).reshape(-1, len(self.space.dimensions))

    def _hyperparameters(self, x: np.ndarray, y: np.ndarray) -> Hyperparameters:
        """Refit when new observations arrived, warm-started from the last fit; every
        ``_RESTART_EVERY``-th fit (the first included) also starts from a random point."""
        if self._theta is None or self._theta_for != len(y):
            starts = [self._theta if self._theta is not None else Hyperparameters.initial(x.shape[1])]
            if self._fits % _RESTART_EVERY == 0:
                bounds = np.array(Hyperparameters.bounds(x.shape[1]))
                starts.append(self.rng.uniform(bounds[:, 0], bounds[:, 1]))
            self._theta = fit_hyperparameters(x, y, self.nu, self.alpha, starts).theta
            self._theta_for = len(y)
            self._fits += 1
        return Hyperparameters(self._theta)


def _maximise(score_with_gradient: Callable, starts: np.ndarray) -> np.ndarray:
    """L-BFGS-B from every start at once. The sum of the acquisitions is separable, so its local
    optima are every start's own, and Python's overhead is paid once per step, not once per start."""
    shape = starts.shape

    def objective(flat: np.ndarray) -> tuple[float, np.ndarray]:
        value, grad = score_with_gradient(flat.reshape(shape))
        if not (np.all(np.isfinite(value)) and np.all(np.isfinite(grad))):
            return 0.0, np.zeros_like(flat)
        return -float(value.sum()), -grad.ravel()

    result = optimize.minimize(objective, starts.ravel(), jac=True, method="L-BFGS-B",
                               bounds=[(0.0, 1.0)] * starts.size, options={"maxiter": _REFINE_MAXITER})
    refined = np.clip(result.x.reshape(shape), 0.0, 1.0)
    return np.where(np.isfinite(refined), refined, starts)
