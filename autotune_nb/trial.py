"""Trial records: the immutable view of one trial that tuners, assessors, stores and exports see.

Only a worker holds a live handle on a running trial (it reports intermediate results); everybody
else gets a frozen ``Trial`` and a new one for every state change (``dataclasses.replace``).
"""

from __future__ import annotations

import dataclasses
import enum
import math
from typing import Any, Mapping

from .directives import Directives
from .errors import AutotuneError
from .numeric import shown

#: ``reason`` of a trial that was running or waiting when its study's process ended.
LOST_REASON = "lost: the study process ended while it ran"


class TrialState(str, enum.Enum):
    WAITING = "WAITING"
    RUNNING = "RUNNING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    EARLY_STOPPED = "EARLY_STOPPED"
    CANCELED = "CANCELED"
    TIMEOUT = "TIMEOUT"

    @property
    def is_finished(self) -> bool:
        return self not in (TrialState.WAITING, TrialState.RUNNING)


@dataclasses.dataclass(frozen=True)
class Trial:
    """One trial. ``value`` is the trial's result (the ``default`` metric), ``metrics`` the rest.

    ``intermediates`` is a tuple of ``(step, value)`` pairs in the order they were reported.
    ``error`` holds the formatted traceback of a failed trial; ``reason`` a one-line cause
    (e.g. "worker died (exit code -9)", "lost: the study process ended while it ran").
    ``directives``: what a multi-fidelity or population tuner decided for it (``directives.py``).
    """

    number: int
    params: Mapping[str, Any]
    state: TrialState = TrialState.WAITING
    value: float | None = None
    metrics: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    intermediates: tuple[tuple[int, float], ...] = ()
    started_at: float | None = None
    finished_at: float | None = None
    slot: int | None = None
    gpu: str | None = None
    error: str | None = None
    reason: str | None = None
    #: The tuner's budget, bracket/rung, generation and parent for this trial (directives.py); None for most tuners.
    directives: Directives | None = None
    #: The file holding a trial command's stdout and stderr (``execution/command_trial.py``); None for
    #: other trials. Not stored: the study finds it in its folder.
    log_path: str | None = None

    @property
    def duration(self) -> float | None:
        if self.started_at is None or self.finished_at is None:
            return None
        return self.finished_at - self.started_at

    @property
    def interrupted(self) -> bool:
        """True for a trial that did not end by itself: CANCELED by a stop, or lost with its process.
        Running its configuration again is not a repeat (GridSearch and Batch do, on resume)."""
        return self.state == TrialState.CANCELED or (self.state == TrialState.FAILED and self.reason == LOST_REASON)

    @property
    def last_intermediate(self) -> float | None:
        return self.intermediates[-1][1] if self.intermediates else None

    def replace(self, **changes: Any) -> "Trial":
        return dataclasses.replace(self, **changes)


class InvalidResultError(AutotuneError, TypeError):
    """A trial returned something that is not a number nor a dict with a numeric ``default``."""


def parse_result(result: Any) -> tuple[float, dict[str, Any]]:
    """Split a trial's result into (value, extra metrics), NNI's form.

    A number is the value. A dict must hold a numeric ``default`` key; its other keys are metrics.
    """
    if isinstance(result, Mapping):
        if "default" not in result:
            raise InvalidResultError(
                f"trial result {shown(result)} is a dict without a 'default' key: NNI's form is "
                "{'default': <number>, ...other metrics}"
            )
        value = finite_number(result["default"], what="the result's 'default'")
        return value, {str(k): v for k, v in result.items() if k != "default"}
    return finite_number(result, what="the trial result"), {}


def finite_number(x: Any, *, what: str) -> float:
    """``x`` as a finite float, the one rule for every value a trial sends (result and reports).

    Refused, naming the value: bools and strings (``"0.5"`` is a bug in the trial, not a number),
    anything ``float()`` refuses or whose ``__float__`` raises, ints too large for a float, NaN and
    infinities (a best of ``inf`` would make every later trial look worse).
    """
    if isinstance(x, bool):
        raise InvalidResultError(f"{what} is {x!r}, a bool: return a number (int or float)")
    if isinstance(x, (str, bytes)):
        raise InvalidResultError(f"{what} is the string {shown(x)}: return a number, not its text")
    try:
        value = float(x)
    except OverflowError:
        raise InvalidResultError(f"{what} is {shown(x)}, too large for a float: return a finite number") from None
    except Exception as exc:  # TypeError, ValueError, or whatever a custom __float__ raises
        raise InvalidResultError(
            f"{what} is {shown(x)} of type {type(x).__name__}, which is not a number "
            f"({type(exc).__name__}: {exc}): return a number, or a dict with a numeric 'default' key"
        ) from None
    if not math.isfinite(value):
        raise InvalidResultError(f"{what} is {value!r}: return a finite number")
    return value
