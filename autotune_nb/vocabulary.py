"""The words every layer shares: a study's state, a direction and what "best" means in it, the
kinds of trial events, and how a trial's job ended. Each is defined here once; the store, the
export, the views, the dashboard and the pools use these, never their own strings.

The enums are ``str`` enums, so a stored or exported ``"finished"`` compares equal to
``StudyState.FINISHED`` and prints as ``finished``.
"""

from __future__ import annotations

import enum
from typing import TYPE_CHECKING, Iterable

if TYPE_CHECKING:
    from .trial import Trial


class _Word(str, enum.Enum):
    """A ``str`` enum that prints as its value (``f"{state}"`` is ``finished``, not ``StudyState.FINISHED``)."""

    __str__ = str.__str__
    __format__ = str.__format__


class StudyState(_Word):
    RUNNING = "running"
    FINISHED = "finished"
    STOPPED = "stopped"
    FAILED = "failed"


#: Every study state, in the order shown to users.
STUDY_STATES = tuple(state.value for state in StudyState)


class Direction(_Word):
    """NNI's optimize_mode. A value is better than another when ``sign * value`` is larger."""

    MAXIMIZE = "maximize"
    MINIMIZE = "minimize"

    @property
    def sign(self) -> float:
        return 1.0 if self is Direction.MAXIMIZE else -1.0

    def better(self, value: float, than: float) -> bool:
        return self.sign * value > self.sign * than

    def best_value(self, values: Iterable[float | None]) -> float | None:
        """The best of ``values`` (None ignored), or None."""
        return max((v for v in values if v is not None), key=lambda v: self.sign * v, default=None)

    def best(self, trials: Iterable["Trial"]) -> "Trial | None":
        """The SUCCEEDED trial with the best value (ties: the first given), or None."""
        from .trial import TrialState

        best = None
        for trial in trials:
            if trial.state == TrialState.SUCCEEDED and trial.value is not None and (
                    best is None or self.better(trial.value, best.value)):
                best = trial
        return best


#: NNI's optimize_mode values; a study's direction is one of them.
DIRECTIONS = tuple(direction.value for direction in Direction)


class EventKind(_Word):
    """What a ``TrialEvent`` tells subscribers: a trial started, reported an intermediate result, ended."""

    STARTED = "started"
    REPORTED = "reported"
    FINISHED = "finished"


class OutcomeKind(_Word):
    """How a trial's job ended, as its pool reports it (``execution.base.Outcome``)."""

    RESULT = "result"  # the trial function returned
    ERROR = "error"  # it raised (or its result could not come back)
    STOPPED = "stopped"  # it raised TrialStopped: the assessor stopped it at a report
    DIED = "died"  # its worker died, or the pool ended it (cancel)
