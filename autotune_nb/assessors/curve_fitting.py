"""NNI's Curvefitting: extrapolate a trial's learning curve to ``epoch_num`` and stop the trial when
the prediction is clearly worse than the best completed trial (Domhan, Springenberg and Hutter,
"Speeding up automatic hyperparameter optimization of deep neural networks by extrapolation of
learning curves", IJCAI 2015).

How the prediction is made, and where it departs from NNI:

* Families. The curve is modelled with Domhan's parametric families: pow3, log-power, pow4, MMF,
  ilog2, and exp4 / Weibull / Janoschek. The last three are one function class,
  ``c - d * exp(-(x / s) ** delta)``, written with different parameters (exp4's
  ``exp(-a x^alpha + b)`` is Weibull's ``(alpha - beta) exp(-(kappa x)^delta)`` with
  ``a = kappa^delta``, ``b = log(alpha - beta)``; Janoschek is the same again). Least squares gives
  them the same curve, so they are fitted once, as ``exp4``; fitting three copies would only
  triple that shape's vote. ilog2 uses ``log(x + 1)``: NNI's ``log(x)`` is infinite at the first
  report (x = 1).
* Fit. Each family is linear in its offset and scale, so those are solved exactly (variable
  projection) for every point of a fixed grid over the 1-2 remaining shape parameters, all at once
  in numpy; the best grid point is then refined with ``scipy.optimize.least_squares`` (bounded,
  at most ``_MAX_NFEV`` evaluations). The grid makes the fit global and deterministic, where
  NNI's ``curve_fit`` from fixed starting values can fail or stop in a poor local minimum.
* Combination. NNI weights the families by a short MCMC over a Gaussian likelihood (10 samples, 20
  steps, random). Here the weights are Akaike weights, ``exp(-AICc / 2)`` normalised: the same
  likelihood with a penalty for parameters, no sampling, hence pure and fast. NNI also drops the
  families whose prediction strays from the others' and gives up below four; Akaike weights
  already give a poor fit no say, so that filter is not kept. The curve is first put in the
  "higher is better" orientation and scaled to [0, 1], so that Domhan's increasing, saturating
  shapes fit losses too.
* Decision (NNI's ratio rule). Maximize: STOP when ``prediction <= threshold * best``, where
  ``best`` is the highest last intermediate of the SUCCEEDED trials (NNI compares the same
  quantity, the final reported value). Minimize, mirrored: STOP when
  ``prediction >= best / threshold``. NNI's rule assumes positive values (accuracies, losses); for
  a negative ``best`` the margin is taken on ``|best|`` so that ``threshold < 1`` stays lenient:
  ``best - (1 - threshold) |best|`` and ``best + (1 / threshold - 1) |best|``.
"""

from __future__ import annotations

import dataclasses
from typing import Callable, Sequence

import numpy as np
from scipy.optimize import least_squares

from ..trial import Trial
from ..class_args import require_int, require_positive_number
from .base import Assessor, Decision, completed_curves, curve_values

_MAX_NFEV = 30
_STEP = 1e-6  # forward-difference step on the log of a shape parameter
_SSE_FLOOR = 1e-12  # per point, on the [0, 1] scale: fits closer than this count as exact
_HUGE = 1e100  # shape values beyond this are overflow, not a usable fit

# (shape parameters (G, m), positions (N,)) -> the family's shape term (G, N); the family is
# ``intercept + slope * shape`` (or ``slope * shape`` without offset), both solved in closed form.
_Shape = Callable[[np.ndarray, np.ndarray], np.ndarray]


def _pow3(theta: np.ndarray, x: np.ndarray) -> np.ndarray:
    """``c - a x^-alpha``."""
    return x ** -theta[:, :1]


def _pow4(theta: np.ndarray, x: np.ndarray) -> np.ndarray:
    """``c - (a x + b)^-alpha``, i.e. ``c - a' (x + shift)^-alpha``."""
    return (x + theta[:, 1:2]) ** -theta[:, :1]


def _log_power(theta: np.ndarray, x: np.ndarray) -> np.ndarray:
    """``a / (1 + (x / e^b)^c)`` with ``c < 0`` (increasing); it has no offset."""
    return 1.0 / (1.0 + (x / theta[:, :1]) ** -theta[:, 1:2])


def _mmf(theta: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Morgan-Mercer-Flodin ``alpha - (alpha - beta) / (1 + (kappa x)^delta)``."""
    return 1.0 / (1.0 + (x / theta[:, :1]) ** theta[:, 1:2])


def _exp4(theta: np.ndarray, x: np.ndarray) -> np.ndarray:
    """exp4 = Weibull = Janoschek: ``alpha - (alpha - beta) exp(-(x / s)^delta)``."""
    return np.exp(-((x / theta[:, :1]) ** theta[:, 1:2]))


def _ilog2(theta: np.ndarray, x: np.ndarray) -> np.ndarray:
    """``c - a / log(x + 1)``."""
    return np.broadcast_to(1.0 / np.log(x + 1.0), (len(theta), len(x)))


@dataclasses.dataclass(frozen=True)
class _Family:
    name: str
    n_params: int  # the family's parameter count, for the AICc penalty
    shape: _Shape
    grid: tuple[np.ndarray, ...] = ()  # candidate values of each shape parameter (all > 0)
    is_scale: tuple[bool, ...] = ()  # shape parameters in units of x, scaled by the curve's length
    has_offset: bool = True

    def candidates(self, length: int) -> np.ndarray:
        """The grid as a (G, m) array, x scales multiplied by ``length``."""
        if not self.grid:
            return np.zeros((1, 0))
        mesh = np.stack([axis.ravel() for axis in np.meshgrid(*self.grid, indexing="ij")], axis=1)
        return mesh * np.where(self.is_scale, float(length), 1.0)


_EXPONENTS = np.geomspace(0.02, 5.0, 16)
_SCALES = np.geomspace(0.01, 100.0, 16)
_STEEPNESS = np.geomspace(0.2, 8.0, 16)

_FAMILIES: tuple[_Family, ...] = (
    _Family("pow3", 3, _pow3, (np.geomspace(0.02, 5.0, 40),), (False,)),
    _Family("pow4", 4, _pow4, (_EXPONENTS, np.geomspace(0.01, 10.0, 16)), (False, True)),
    _Family("log_power", 3, _log_power, (_SCALES, _STEEPNESS), (True, False), has_offset=False),
    _Family("mmf", 4, _mmf, (_SCALES, _STEEPNESS), (True, False)),
    _Family("exp4", 4, _exp4, (_SCALES, np.geomspace(0.2, 4.0, 16)), (True, False)),
    _Family("ilog2", 2, _ilog2),
)


_MIN_POINTS = min(family.n_params for family in _FAMILIES) + 2  # fewer: no family has an AICc


@dataclasses.dataclass(frozen=True)
class _Fit:
    theta: np.ndarray
    intercept: float
    slope: float
    sse: float

    def at(self, family: _Family, x: float) -> float:
        shape = family.shape(self.theta[None], np.array([x]))[0, 0]
        return self.intercept + self.slope * float(shape)


class CurveFitting(Assessor):
    """Predict the trial's value at ``epoch_num`` from its curve; STOP when the prediction is
    worse than ``threshold`` times the best final value of the completed trials.

    The curve is assessed only after ``start_step`` reports and then every ``gap`` reports
    (NNI's ``gap``, kept without state: at ``start_step``, ``start_step + gap``, ...). Before any
    SUCCEEDED trial, or when no family can be fitted, the answer is CONTINUE. Positions are
    report counts (1, 2, ...), the unit of ``epoch_num``. See the module docstring for the model.

    Example:
        >>> from autotune_nb.trial import Trial, TrialState
        >>> curve = lambda top, n: tuple((i, top * (1 - 0.8 ** i)) for i in range(1, n + 1))
        >>> done = [Trial(0, {}, TrialState.SUCCEEDED, intermediates=curve(0.9, 20))]
        >>> running = Trial(1, {}, TrialState.RUNNING, intermediates=curve(0.5, 8))
        >>> CurveFitting(epoch_num=20).assess(running, done)
        <Decision.STOP: 'STOP'>
    """

    name = "Curvefitting"

    def __init__(
        self,
        epoch_num: int,
        start_step: int = 6,
        threshold: float = 0.95,
        gap: int = 1,
        optimize_mode: str = "maximize",
    ) -> None:
        super().__init__(optimize_mode)
        self.epoch_num = require_int(self.name, "epoch_num", epoch_num, minimum=1)
        self.start_step = require_int(self.name, "start_step", start_step, minimum=0)
        self.threshold = require_positive_number(self.name, "threshold", threshold)
        self.gap = require_int(self.name, "gap", gap, minimum=1)

    def assess(self, trial: Trial, history: Sequence[Trial]) -> Decision:
        step = len(trial.intermediates)
        if step < self.start_step or (step - self.start_step) % self.gap:
            return Decision.CONTINUE
        best = self._best_final(history)
        if best is None:
            return Decision.CONTINUE
        predicted = self.predict(curve_values(trial))
        if predicted is None:
            return Decision.CONTINUE
        return Decision.STOP if self._clearly_worse(predicted, best) else Decision.CONTINUE

    def predict(self, values: Sequence[float]) -> float | None:
        """The curve's extrapolated value at report ``epoch_num``; None when it cannot be fitted."""
        y = np.asarray(values, dtype=float)
        x = np.arange(1.0, len(y) + 1.0)
        finite = np.isfinite(y)
        try:
            return _predict(x[finite], y[finite], float(self.epoch_num), self.maximize)
        except (ValueError, ArithmeticError):  # numpy/scipy numerical failures: no opinion
            return None

    def _best_final(self, history: Sequence[Trial]) -> float | None:
        finals = [curve[-1] for curve in completed_curves(history) if np.isfinite(curve[-1])]
        if not finals:
            return None
        return max(finals) if self.maximize else min(finals)

    def _clearly_worse(self, predicted: float, best: float) -> bool:
        if self.maximize:
            return predicted <= best - (1.0 - self.threshold) * abs(best)
        return predicted >= best + (1.0 / self.threshold - 1.0) * abs(best)


def _predict(x: np.ndarray, y: np.ndarray, target: float, maximize: bool) -> float | None:
    """Fit every family that the points can support, combine their predictions by Akaike weight."""
    if len(y) < _MIN_POINTS:
        return None
    sign = 1.0 if maximize else -1.0
    oriented = sign * y
    low, span = oriented.min(), np.ptp(oriented)
    if span <= 1e-12 * max(1.0, abs(low)):
        return float(y[-1])  # a flat curve stays flat
    z = (oriented - low) / span
    predictions, scores = [], []
    for family in _FAMILIES:
        if len(z) < family.n_params + 2:  # AICc needs n > k + 1
            continue
        fit = _fit(family, x, z)
        prediction = fit.at(family, target) if fit is not None else np.nan
        if np.isfinite(prediction):
            predictions.append(prediction)
            scores.append(_aicc(fit.sse, len(z), family.n_params))
    if not predictions:
        return None
    weights = np.exp(-(np.array(scores) - min(scores)) / 2.0)
    combined = float(np.dot(weights, predictions) / weights.sum())
    return sign * (low + span * combined)


def _aicc(sse: float, n: int, k: int) -> float:
    return n * np.log(max(sse / n, _SSE_FLOOR)) + 2 * k + 2 * k * (k + 1) / (n - k - 1)


def _fit(family: _Family, x: np.ndarray, z: np.ndarray) -> _Fit | None:
    """Best grid point by variable projection, then a bounded least-squares polish."""
    candidates = family.candidates(len(x))
    intercept, slope, residuals = _project(family.shape(candidates, x), z, family.has_offset)
    sse = (residuals**2).sum(axis=1)
    best = int(np.argmin(sse))
    if not np.isfinite(sse[best]):
        return None
    grid_fit = _Fit(candidates[best], intercept[best], slope[best], float(sse[best]))
    if candidates.shape[1] == 0:
        return grid_fit
    polished = _polish(family, grid_fit.theta, candidates.min(axis=0), candidates.max(axis=0), x, z)
    return polished if polished is not None and polished.sse < grid_fit.sse else grid_fit


def _polish(family: _Family, theta: np.ndarray, lower: np.ndarray, upper: np.ndarray,
            x: np.ndarray, z: np.ndarray) -> _Fit | None:
    """Refine the shape parameters, in log space (they are positive), within the grid's box.

    The Jacobian is a forward difference computed as one stacked projection (one numpy pass
    instead of one Python call per parameter).
    """

    def residuals(log_thetas: np.ndarray) -> np.ndarray:
        *_, res = _project(family.shape(np.exp(log_thetas), x), z, family.has_offset)
        return np.nan_to_num(res, nan=1e3, posinf=1e3, neginf=-1e3)

    def jacobian(log_theta: np.ndarray) -> np.ndarray:
        stacked = residuals(np.vstack([log_theta, log_theta + _STEP * np.eye(len(log_theta))]))
        return ((stacked[1:] - stacked[0]) / _STEP).T

    result = least_squares(lambda log_theta: residuals(log_theta[None])[0], np.log(theta),
                           jac=jacobian, bounds=(np.log(lower), np.log(upper)), method="trf",
                           max_nfev=_MAX_NFEV)
    refined = np.exp(result.x)
    intercept, slope, res = _project(family.shape(refined[None], x), z, family.has_offset)
    sse = float((res**2).sum())
    return _Fit(refined, intercept[0], slope[0], sse) if np.isfinite(sse) else None


def _project(
    shape: np.ndarray, z: np.ndarray, has_offset: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Least-squares ``intercept`` and ``slope`` of ``z`` on each row of ``shape`` (G, N), and the
    residuals. A row with a non-finite or huge entry (overflow) gets infinite residuals; a constant
    row gets slope 0.
    """
    with np.errstate(all="ignore"):
        usable = (np.abs(shape) < _HUGE).all(axis=1)  # also False for inf and NaN
        shape = np.where(usable[:, None], shape, 0.0)
        if has_offset:
            centre, target = shape.mean(axis=1), z - z.mean()
        else:
            centre, target = np.zeros(len(shape)), z
        varying = shape - centre[:, None]
        spread = (varying**2).sum(axis=1)
        # a row that varies only at rounding level, relative to its size, is a constant: slope 0
        slope = np.where(spread > 1e-20 * (shape**2).sum(axis=1), varying @ target / spread, 0.0)
        intercept = z.mean() - slope * centre if has_offset else np.zeros(len(shape))
        residuals = intercept[:, None] + slope[:, None] * shape - z
    usable &= np.isfinite(residuals).all(axis=1)
    residuals[~usable] = np.inf
    return intercept, slope, residuals
