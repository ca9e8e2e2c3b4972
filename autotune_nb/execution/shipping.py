"""What crosses between the study and its workers, for every pool: the trial function going out,
and a failed job's end coming back.

The function is pickled with cloudpickle once per study, and refused by name when it cannot be
pickled or loaded where it must run. An exception comes back as formatted text, never as the
exception object (which may not pickle), in the form the user reads: the traceback from the
user's code on, and a one-line reason.
"""

from __future__ import annotations

import os
import traceback
from typing import Callable

import cloudpickle

from ..errors import ConfigurationError, TrialFailure
from ..vocabulary import OutcomeKind
from .base import Outcome

#: The reason of a trial whose outcome could not be pickled back to the study (Local and Dask alike).
UNSENDABLE = "the trial's outcome could not be sent back from its worker (is the result picklable?)"

_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def name_of(fn: Callable) -> str:
    return getattr(fn, "__qualname__", None) or repr(fn)


def pickle_function(fn: Callable) -> bytes:
    """``fn`` as the workers receive it; ``ConfigurationError`` naming it when it cannot be pickled."""
    try:
        return cloudpickle.dumps(fn)
    except Exception as exc:
        raise ConfigurationError(
            f"the trial function {name_of(fn)} cannot be pickled for the worker processes: {exc}. "
            "Create what it needs (locks, open files, connections) inside the function, "
            "or run it with executor='inline'."
        ) from exc


def unloadable(fn: Callable, where: str, exc: BaseException, advice: str) -> ConfigurationError:
    """The error for a function that was pickled but could not be loaded ``where`` it must run."""
    return ConfigurationError(f"the trial function {name_of(fn)} cannot be loaded {where}: {exc}. {advice}\n"
                              f"{format_trial_error(exc)}")


def format_trial_error(exc: BaseException) -> str:
    """The traceback of ``exc``, starting at the user's code.

    The frames of autotune_nb's own machinery (worker, pool, cell wrapper) come first and say
    nothing to the user; they are dropped, unless the error arose in that machinery alone.
    """
    tb = exc.__traceback__
    while tb is not None and tb.tb_frame.f_code.co_filename.startswith(_PACKAGE_DIR):
        tb = tb.tb_next
    return "".join(traceback.format_exception(type(exc), exc, tb if tb is not None else exc.__traceback__))


def error_outcome(trial_number: int, exc: BaseException, context: str | None = None) -> Outcome:
    """An ERROR outcome for ``exc``: its traceback, and as reason the exception in one line, after
    ``context`` where the error is not the trial's own (e.g. ``UNSENDABLE``). A ``TrialFailure``
    gives its own reason and error text."""
    if isinstance(exc, TrialFailure) and context is None:
        return Outcome(trial_number, OutcomeKind.ERROR, error=exc.details, reason=exc.reason)
    message = str(exc)
    reason = f"{type(exc).__name__}: {message}" if message else type(exc).__name__
    return Outcome(trial_number, OutcomeKind.ERROR, error=format_trial_error(exc),
                   reason=f"{context}: {reason}" if context else reason)
