"""The Gaussian process both model-based tuners use: GP (gp.py) as its model of the losses, TPE's
kriging believer (believer.py) to predict the losses of trials still running.

A constant mean (profiled out in closed form: the generalised least-squares estimate), a Matern
kernel with one length scale per input dimension (ARD), a signal and a noise variance, all fitted by
maximising the log marginal likelihood (the GP tuner's: times a prior on the length scales,
``length_prior``) with L-BFGS-B within bounds. Inputs live in the unit cube
and targets are standardised (warped first for the GP tuner: ``warp_losses``; normal scores for
the believer), which the bounds assume. Numpy and scipy only.
"""

from __future__ import annotations

import functools
import math
from typing import ContextManager

import numpy as np
import threadpoolctl
from scipy import linalg, optimize

#: The Matern smoothness values the kernel has in closed form.
MATERN_NU = (0.5, 1.5, 2.5)

# Hyperparameter bounds, on the log scale: inputs live in the unit cube and targets are standardised.
_LOG_LENGTH_BOUNDS = (math.log(1e-2), math.log(20.0))
_LOG_SIGNAL_BOUNDS = (math.log(5e-2), math.log(20.0))
_LOG_NOISE_BOUNDS = (math.log(1e-6), math.log(1.0))
#: The shape and rate of the GP tuner's Gamma prior on each length scale (``length_prior``).
_LENGTH_PRIOR_SHAPE = 1.0
_LENGTH_PRIOR_RATE = 3.0
_FIT_MAXITER = 60
_MAX_JITTER_TRIES = 8


@functools.cache
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


# --- output warping ----------------------------------------------------------------------------
def warp_losses(losses: np.ndarray) -> np.ndarray:
    """The GP tuner's targets: each loss's gap to the best one, in units of the median gap, Yeo-Johnson
    transformed with the power of largest likelihood (scipy.stats.yeojohnson), then standardised.

    Losses spanning orders of magnitude (1 to 1e6) leave a GP on raw values fitting the few huge
    ones and flat everywhere else; the power transform pulls such tails in (towards log1p of the
    gap) and leaves near-normal losses almost as they are. Measuring the gaps from the best loss in
    units of their median makes the warp blind to the losses' offset and unit, and puts the small
    gaps, the ones that matter, where the transform spreads them. Every Yeo-Johnson transform is
    strictly increasing, so the order of the losses, and with it which one is best, is kept.

    Chosen by the mean regret after 30 trials on 9 continuous problems up to 6-D
    (benchmarks/results/search_quality_ii.txt), against raw values, normal scores of the ranks,
    log(gap + 1% of the median gap), log1p(gap / median gap) and Yeo-Johnson on the standardised
    losses. Fewer than 3 losses, or equal ones, are only standardised.
    """
    from scipy import stats  # at first use: scipy.stats takes ~0.5 s to import

    values = np.asarray(losses, dtype=float)
    gaps = values - values.min()
    unit = float(np.median(gaps)) or float(gaps.mean())
    if len(values) < 3 or unit == 0:
        return _standardise(values)
    with np.errstate(over="ignore"):
        transformed = stats.yeojohnson(gaps / unit)[0]
    return _standardise(transformed if np.all(np.isfinite(transformed)) else values)


def _standardise(values: np.ndarray) -> np.ndarray:
    scale = float(values.std()) or 1.0
    return (values - values.mean()) / scale


class Hyperparameters:
    """ARD length scales, signal variance and noise variance, packed as one log-scale vector."""

    #: Where the log length scales sit in the packed vector (the signal and the noise follow them).
    LENGTHS = slice(None, -2)

    def __init__(self, theta: np.ndarray):
        self.theta = np.asarray(theta, dtype=float)
        self.lengths = np.exp(self.theta[self.LENGTHS])
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


def length_prior(log_lengths: np.ndarray) -> tuple[float, np.ndarray]:
    """The negative log density (up to a constant) of a Gamma prior with shape 1 and rate 3 (an
    exponential of rate 3) on each length scale ``l``, as a density of ``log l``: ``3 l - log l``;
    and its gradient in ``log l``.

    With 10 to 30 observations the marginal likelihood alone often sends some length scales to the
    upper bound (the model then deems a dimension irrelevant and the tuner leaves it wherever, the
    cube's edges included) or to the lower one. The prior's ``3 l`` pulls long scales in hard; its
    ``log l`` leans against very short ones, which rugged problems still get when the data ask for
    them. Chosen by the issue's target, mean regret after 30 trials at or below optuna's TPE on 9
    continuous problems (benchmarks/results/gp_input_warping.txt), against no prior, shape 0 (an
    improper ``exp(-3 l) / l``, which let 6-D fits collapse to short scales on Wide-Hartmann6), shape
    1/2 (left Levy-4D at 1.07-1.16x optuna), shapes 3/4 to 3 and rate 2. Its cost: Schwefel-2D's
    regret is 1.36x that of no prior (still 0.90x optuna's).
    """
    lengths = np.exp(log_lengths)
    prior = _LENGTH_PRIOR_RATE * lengths - _LENGTH_PRIOR_SHAPE * log_lengths
    return float(prior.sum()), _LENGTH_PRIOR_RATE * lengths - _LENGTH_PRIOR_SHAPE


def fit_hyperparameters(x: np.ndarray, y: np.ndarray, nu: float, alpha: float,
                        starts: list[np.ndarray], *, with_length_prior: bool = False) -> Hyperparameters:
    """The hyperparameters of largest marginal likelihood, or of largest posterior density under
    ``length_prior`` if ``with_length_prior``, from each of ``starts`` in turn."""
    bounds = Hyperparameters.bounds(x.shape[1])

    def objective(theta: np.ndarray) -> tuple[float, np.ndarray]:
        try:
            posterior = Posterior(x, y, Hyperparameters(theta), nu, alpha)
        except linalg.LinAlgError:
            return 1e25, np.zeros_like(theta)
        value, grad = posterior.negative_log_likelihood(), posterior.likelihood_gradient()
        if with_length_prior:
            prior, prior_grad = length_prior(theta[Hyperparameters.LENGTHS])
            value = value + prior
            grad[Hyperparameters.LENGTHS] += prior_grad
        return value, grad

    best_theta, best_value = starts[0], math.inf
    for start in starts:
        result = optimize.minimize(objective, start, jac=True, method="L-BFGS-B", bounds=bounds,
                                   options={"maxiter": _FIT_MAXITER})
        if np.all(np.isfinite(result.x)) and result.fun < best_value:
            best_theta, best_value = result.x, result.fun
    return Hyperparameters(best_theta)
