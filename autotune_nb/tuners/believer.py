"""The kriging believer: a loss for each trial still running, predicted from the finished ones.

TPE ranks every point it models by its loss, and a running trial has none yet. NNI's constant liar
gives all of them one value (the best, worst or mean loss). The believer predicts each one's loss
instead, with the Gaussian process of ``_gp.py`` (Matern 5/2, one length scale per dimension) fitted
on the finished trials: a running trial in a good region counts as good and one in a poor region as
poor, as they most likely will, and the next suggestions are chosen as if those results were in.

* The GP models normal scores of the losses' ranks, not the losses, so that a few huge losses
  (Rosenbrock's) do not flatten it; a prediction goes back to a loss through the losses' quantiles.
* Its hyperparameters are fitted again only when the finished trials have grown by REFIT_GROWTH
  since the last fit (warm-started from it); in between, only the conditioning is redone.
* Past MAX_POINTS finished trials it conditions on the best half of MAX_POINTS and the most recent
  rest, so that a prediction costs the same at 10,000 trials as at 256.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

# scipy and _gp (scipy.linalg, scipy.optimize) are imported at the first prediction, not here: every
# TPE study makes a LossBeliever, and most start-ups would otherwise pay ~0.5 s for a GP not yet used.
if TYPE_CHECKING:
    from ._gp import Posterior

MAX_POINTS = 256
REFIT_GROWTH = 1.1
#: The fewest finished trials the GP is fitted on; below, there is no prediction.
MIN_POINTS = 3
_NU = 2.5
_JITTER = 1e-6


class LossBeliever:
    """Predicts the losses of points from finished points and their losses (rows in [0, 1]^d).

    Made for one tuner's history, which only grows: the conditioned GP is kept for as long as the
    number of finished points stays the same.
    """

    def __init__(self) -> None:
        self._theta: np.ndarray | None = None
        self._fitted_on = 0
        self._posterior: tuple[int, Posterior] | None = None

    def predict(self, points: np.ndarray, losses: np.ndarray, queries: np.ndarray) -> np.ndarray | None:
        """The predicted loss of each query row; None with fewer than MIN_POINTS points or when the
        GP cannot be fitted (the caller falls back to a constant lie)."""
        if len(losses) < MIN_POINTS:
            return None
        from scipy import special

        from ._gp import single_threaded_blas

        try:
            with single_threaded_blas():
                posterior = self._condition(points, losses)
                mean, _ = posterior.predict(queries)
        except (np.linalg.LinAlgError, ValueError):  # scipy.linalg raises numpy's LinAlgError
            return None
        if not np.all(np.isfinite(mean)):
            return None
        return np.quantile(losses, special.ndtr(mean))

    def _condition(self, points: np.ndarray, losses: np.ndarray) -> Posterior:
        """The GP given every finished point (or MAX_POINTS of them); refitted when they have grown."""
        if self._posterior is not None and self._posterior[0] == len(losses):
            return self._posterior[1]
        from scipy import special, stats

        from ._gp import Hyperparameters, Posterior, fit_hyperparameters

        scores = special.ndtri((stats.rankdata(losses) - 0.5) / len(losses))
        keep = _kept(losses)
        x, y = points[keep], scores[keep]
        if self._theta is None or len(losses) >= REFIT_GROWTH * self._fitted_on:
            start = self._theta if self._theta is not None else Hyperparameters.initial(x.shape[1])
            self._theta = fit_hyperparameters(x, y, _NU, _JITTER, [start]).theta
            self._fitted_on = len(losses)
        posterior = Posterior(x, y, Hyperparameters(self._theta), _NU, _JITTER)
        self._posterior = (len(losses), posterior)
        return posterior


def _kept(losses: np.ndarray) -> np.ndarray:
    """Indices of the points the GP conditions on: all, or the best and the most recent."""
    n = len(losses)
    if n <= MAX_POINTS:
        return np.arange(n)
    best = np.argsort(losses, kind="stable")[: MAX_POINTS // 2]
    recent = np.arange(n - (MAX_POINTS - len(best)), n)
    return np.union1d(best, recent)
