"""The live handle of a running trial, and ``report``: the one call trial code makes to the study.

A worker (or the in-process runner) installs a ``TrialContext`` while a trial's code runs;
``report(value, step)`` finds it through a context variable. Outside a study there is none and
``report`` returns without doing anything, so the same code runs plainly.
"""

from __future__ import annotations

import abc
import contextlib
import contextvars
import math
import os
import traceback
from typing import Any, Iterator

from ..errors import TrialStopped
from ..trial import InvalidResultError

_current: contextvars.ContextVar["TrialContext | None"] = contextvars.ContextVar("autotune_trial", default=None)


class TrialContext(abc.ABC):
    """What trial code can reach of its study while it runs."""

    def __init__(self, trial_number: int):
        self.trial_number = trial_number
        self.step = 0

    def report(self, value: Any, step: int | None = None) -> None:
        number = _as_report_value(value)
        self.step = self.step + 1 if step is None else int(step)
        if self._send(self.step, number):
            raise TrialStopped(f"trial {self.trial_number} stopped early by the assessor at step {self.step}")

    @abc.abstractmethod
    def _send(self, step: int, value: float) -> bool:
        """Deliver one intermediate result; return True when the study wants the trial stopped."""


def _as_report_value(value: Any) -> float:
    if isinstance(value, dict):
        if "default" not in value:
            raise InvalidResultError(f"at.report got {value!r}: a dict needs a 'default' key (NNI's form)")
        value = value["default"]
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise InvalidResultError(f"at.report got {value!r} of type {type(value).__name__}: report a number") from None
    if math.isnan(number) or isinstance(value, bool):
        raise InvalidResultError(f"at.report got {value!r}: report a finite number")
    return number


@contextlib.contextmanager
def active(context: TrialContext) -> Iterator[TrialContext]:
    token = _current.set(context)
    try:
        yield context
    finally:
        _current.reset(token)


def current() -> TrialContext | None:
    return _current.get()


def report(value: Any, step: int | None = None) -> None:
    """Send an intermediate result of the running trial to its study.

    ``step`` defaults to 1, 2, 3, ... per call. Raises ``TrialStopped`` when the study's assessor
    decided to stop this trial: let it propagate. Outside a study this does nothing.
    """
    context = _current.get()
    if context is not None:
        context.report(value, step)


_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def format_trial_error(exc: BaseException) -> str:
    """The traceback of a trial's exception, starting at the user's code.

    The frames of autotune_nb's own machinery (worker, pool, cell wrapper) come first and say
    nothing to the user; they are dropped, unless the error arose in that machinery alone.
    """
    tb = exc.__traceback__
    while tb is not None and tb.tb_frame.f_code.co_filename.startswith(_PACKAGE_DIR):
        tb = tb.tb_next
    return "".join(traceback.format_exception(type(exc), exc, tb if tb is not None else exc.__traceback__))
