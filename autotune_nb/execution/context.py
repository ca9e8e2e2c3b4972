"""The live handle of a running trial, and ``report``: the one call trial code makes to the study.

A worker (or the in-process runner) installs a ``TrialContext`` while a trial's code runs;
``report(value, step)`` finds it through a context variable. Outside a study there is none and
``report`` returns without doing anything, so the same code runs plainly.
"""

from __future__ import annotations

import contextlib
import contextvars
import math
import os
import traceback
import numbers
from typing import Any, Callable, Iterator, Mapping

from ..errors import TrialStopped
from ..trial import InvalidResultError
from .base import Outcome

_current: contextvars.ContextVar["TrialContext | None"] = contextvars.ContextVar("autotune_trial", default=None)


#: How a report reaches the study: ``deliver(trial_number, step, value)``, True meaning "stop".
Deliver = Callable[[int, int, float], bool]


class TrialContext:
    """What trial code can reach of its study while it runs: ``report``."""

    def __init__(self, trial_number: int, deliver: Deliver):
        self.trial_number = trial_number
        self.step = 0
        self._deliver = deliver

    def report(self, value: Any, step: int | None = None) -> None:
        number = _as_report_value(value)
        if step is not None and (isinstance(step, bool) or not isinstance(step, numbers.Integral)):
            raise InvalidResultError(f"at.report got step={step!r}: a step is an integer (or leave it out)")
        self.step = self.step + 1 if step is None else int(step)
        if self._deliver(self.trial_number, self.step, number):
            raise TrialStopped(f"trial {self.trial_number} stopped early by the assessor at step {self.step}")


def run_with_reports(fn: Callable[[dict], Any], trial_number: int, params: Mapping[str, Any],
                     deliver: Deliver) -> Outcome:
    """Run one trial with ``report`` wired to ``deliver``; its end, whatever it is, as an Outcome.

    The one place where a trial's result, early stop or own error (``sys.exit()`` included) is
    told apart, for every pool.
    """
    try:
        with active(TrialContext(trial_number, deliver)):
            result = fn(dict(params))
    except TrialStopped:
        return Outcome(trial_number, "stopped")
    except (Exception, SystemExit) as exc:
        return error_outcome(trial_number, exc)
    return Outcome(trial_number, "result", result=result)


def error_outcome(trial_number: int, exc: BaseException) -> Outcome:
    return Outcome(trial_number, "error", error=format_trial_error(exc), reason=f"{type(exc).__name__}: {exc}")


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
