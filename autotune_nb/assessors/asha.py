"""ASHA: asynchronous successive halving (Li et al., "A System for Massively Parallel Hyperparameter
Tuning", MLSys 2020), as an assessor usable with any tuner.

Rungs sit at ``min_resource * reduction_factor ** (min_early_stopping_rate + k)`` reports, k = 0, 1,
... When a trial's report count reaches a rung, its value there is ranked among the values that
every trial of the study reported at that rung (running, finished or stopped: the asynchronous
rule does not wait for a rung to fill); it goes on only if it is within the top
``1 / reduction_factor`` of them (at least the best one; a tie with the last kept value goes on).
Between rungs nothing is decided. Counting reports (not step labels) follows NNI's assessors; for a
trial reporting steps 1, 2, 3, ... this decides as Optuna's SuccessiveHalvingPruner (whose rungs
are step labels), which tests/unit/test_asha.py checks by replaying the same curves through both.
"""

from __future__ import annotations

from typing import Sequence

from ..class_args import require_int
from ..trial import Trial
from .base import Assessor, Decision, curve_values


class ASHA(Assessor):
    """Stop a trial at a rung unless it is in the top 1/reduction_factor of the values seen there.

    Example:
        >>> from autotune_nb.trial import Trial, TrialState
        >>> others = [Trial(n, {}, TrialState.SUCCEEDED, intermediates=((1, v),)) for n, v in enumerate([0.6, 0.7])]
        >>> ASHA(reduction_factor=2).assess(Trial(9, {}, TrialState.RUNNING, intermediates=((1, 0.5),)), others)
        <Decision.STOP: 'STOP'>
    """

    name = "ASHA"

    def __init__(self, optimize_mode: str = "maximize", min_resource: int = 1, reduction_factor: int = 3,
                 min_early_stopping_rate: int = 0) -> None:
        super().__init__(optimize_mode)
        self.min_resource = require_int(self.name, "min_resource", min_resource, minimum=1)
        self.reduction_factor = require_int(self.name, "reduction_factor", reduction_factor, minimum=2)
        self.min_early_stopping_rate = require_int(self.name, "min_early_stopping_rate", min_early_stopping_rate,
                                                   minimum=0)

    def is_rung(self, reports: int) -> bool:
        """Whether ``reports`` reports put a trial on a rung."""
        resource = self.min_resource * self.reduction_factor ** self.min_early_stopping_rate
        while resource < reports:
            resource *= self.reduction_factor
        return resource == reports

    def assess(self, trial: Trial, history: Sequence[Trial]) -> Decision:
        values = curve_values(trial)
        rung = len(values)
        if rung == 0 or not self.is_rung(rung):
            return Decision.CONTINUE
        sign = 1.0 if self.maximize else -1.0
        mine = sign * values[-1]
        others = [sign * curve[rung - 1] for curve in map(curve_values, history) if len(curve) >= rung]
        kept = max(1, (len(others) + 1) // self.reduction_factor)
        better = sum(value > mine for value in others)
        return Decision.CONTINUE if better < kept else Decision.STOP
