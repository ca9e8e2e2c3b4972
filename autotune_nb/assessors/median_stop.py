"""NNI's Medianstop: the median stopping rule of Google Vizier (Golovin et al., KDD 2017)."""

from __future__ import annotations

from typing import Sequence

import numpy as np

from ..trial import Trial
from ..class_args import require_int
from .base import Assessor, Decision, completed_curves, curve_values


class MedianStop(Assessor):
    """Stop a trial at step S when its best value so far is strictly worse than the median of the
    running averages, over their first S values, of the completed trials that reached S.

    S is the number of intermediates the trial has reported (NNI counts reports, not step labels).
    Nothing is decided before ``start_step`` reports, nor while no completed (SUCCEEDED) trial
    reached S.

    With an even number of averages NNI takes, of the two middle values, the worse one (the lower
    when maximizing, the higher when minimizing), and so does this class: a trial stops only when
    it is strictly worse than a strict majority of the completed trials.

    Example:
        >>> from autotune_nb.trial import Trial, TrialState
        >>> done = [Trial(n, {}, TrialState.SUCCEEDED, intermediates=((1, v), (2, v)))
        ...         for n, v in enumerate([0.6, 0.7, 0.8])]
        >>> running = Trial(9, {}, TrialState.RUNNING, intermediates=((1, 0.2), (2, 0.3)))
        >>> MedianStop(start_step=2).assess(running, done)
        <Decision.STOP: 'STOP'>
    """

    name = "Medianstop"

    def __init__(self, optimize_mode: str = "maximize", start_step: int = 0) -> None:
        super().__init__(optimize_mode)
        self.start_step = require_int(self.name, "start_step", start_step, minimum=0)

    def assess(self, trial: Trial, history: Sequence[Trial]) -> Decision:
        values = curve_values(trial)
        step = len(values)
        if step < self.start_step or np.isnan(values).all():  # also true with no value at all
            return Decision.CONTINUE
        best = np.nanmax(values) if self.maximize else np.nanmin(values)
        averages = running_averages_at(completed_curves(history), step)
        if not averages:
            return Decision.CONTINUE
        median = self._worse_middle(sorted(averages))
        worse = best < median if self.maximize else best > median
        return Decision.STOP if worse else Decision.CONTINUE

    def _worse_middle(self, ascending: list[float]) -> float:
        middle = (len(ascending) - 1) // 2 if self.maximize else len(ascending) // 2
        return ascending[middle]


def running_averages_at(curves: Sequence[np.ndarray], step: int) -> list[float]:
    """Mean of the first ``step`` values of each curve that has that many; NaN means are dropped."""
    means = [float(np.mean(curve[:step])) for curve in curves if len(curve) >= step]
    return [mean for mean in means if not np.isnan(mean)]
