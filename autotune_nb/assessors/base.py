"""The assessor contract: from the curves reported so far, decide whether a running trial goes on.

An assessor is a pure function of its arguments. ``assess`` reads the running trial's
intermediates and the curves of the other trials and returns a ``Decision``; it keeps no state
between calls, so a study may call it from any thread, in any order, and tests can replay
recorded curves (``autotune_nb.testing.assessor_contract`` checks this for every assessor).
"""

from __future__ import annotations

import abc
import enum
from typing import Sequence

import numpy as np

from ..class_args import require_optimize_mode
from ..trial import Trial, TrialState


class Decision(enum.Enum):
    CONTINUE = "CONTINUE"
    STOP = "STOP"


class Assessor(abc.ABC):
    """Base class of the early-stopping rules; ``name`` is the NNI name they are registered by."""

    name: str = ""

    def __init__(self, optimize_mode: str = "maximize") -> None:
        self.optimize_mode = require_optimize_mode(self.name, optimize_mode)

    @property
    def maximize(self) -> bool:
        return self.optimize_mode == "maximize"

    @abc.abstractmethod
    def assess(self, trial: Trial, history: Sequence[Trial]) -> Decision:
        """Decide on ``trial`` (RUNNING, with its intermediates so far) given the other trials."""

    def __repr__(self) -> str:
        args = ", ".join(f"{key}={value!r}" for key, value in vars(self).items())
        return f"{type(self).__name__}({args})"


def curve_values(trial: Trial) -> np.ndarray:
    """The trial's intermediate values in report order (steps are not used: NNI counts reports)."""
    return np.array([value for _, value in trial.intermediates], dtype=float)


def completed_curves(history: Sequence[Trial]) -> list[np.ndarray]:
    """Intermediate curves of the SUCCEEDED trials that reported any.

    As in NNI (its ``trial_end`` only records a trial when ``success`` is true), EARLY_STOPPED,
    FAILED, CANCELED and TIMEOUT trials do not count: their curves were cut short, so they say
    nothing about where a full run ends.
    """
    return [
        curve_values(trial)
        for trial in history
        if trial.state is TrialState.SUCCEEDED and trial.intermediates
    ]
