"""The live handle of a running trial, and ``report``: the one call trial code makes to the study.

A worker (or the in-process runner) installs a ``TrialContext`` while a trial's code runs;
``report(value, step)`` finds it through a context variable. Outside a study there is none and
``report`` returns without doing anything, so the same code runs plainly.

A thread the trial starts does not inherit context variables. Its report is delivered where the
process runs one trial at a time for the study alone (a local worker, ``dedicate_process``): the
one running trial is then the thread's, unless the thread was already alive when that trial
began (left over from an earlier trial). Elsewhere (the inline pool shares the notebook's process,
a Dask worker runs several trials in threads) a report from a thread without a trial cannot be
matched to one, and raises ``ReportFromThreadError`` rather than being lost.

NNI's trial API (``autotune_nb.nni_api``) reads the same context: while a trial runs,
``sys.modules["nni"]`` is that module, so ``import nni`` in trial code finds it; the entry the
process had before (the real ``nni`` package, or none) is put back when the last running trial of
the process ends, whatever way it ends (``nni_module``).
"""

from __future__ import annotations

import contextlib
import contextvars
import copy
import importlib
import numbers
import sys
import threading
from typing import Any, Callable, Iterator, Mapping

from ..errors import AutotuneError, ReportFromThreadError, TrialStopped
from ..trial import InvalidResultError, finite_number, parse_result
from ..vocabulary import OutcomeKind
from .base import Outcome
from .shipping import error_outcome

_current: contextvars.ContextVar["TrialContext | None"] = contextvars.ContextVar("autotune_trial", default=None)
_running: list["TrialContext"] = []  # every trial running in this process, for reports from threads
_running_lock = threading.Lock()
_dedicated = False  # set by dedicate_process()


#: How a report reaches the study: ``deliver(trial_number, step, value)``, True meaning "stop".
Deliver = Callable[[int, int, float], bool]


class TrialContext:
    """What trial code can reach of its study while it runs: ``report``, and for NNI's trial API
    its parameters, its study's name (``experiment_id``) and a final result reported by the code.

    ``threads_before`` are the threads alive when the trial began: none of them is the trial's.
    """

    def __init__(self, trial_number: int, deliver: Deliver, params: Mapping[str, Any] | None = None,
                 experiment_id: str | None = None, budget: float | None = None, checkpoint_dir: str | None = None):
        self.trial_number = trial_number
        self.params = dict(params or {})
        self.experiment_id = experiment_id
        self.budget = budget
        self.checkpoint_dir = checkpoint_dir
        self.step = 0
        self.threads_before = frozenset(threading.enumerate())
        self.final_reported = False
        self.final_result: Any = None
        self._deliver = deliver
        self._lock = threading.Lock()  # the trial's threads may report at once: one step each

    def parameters(self) -> dict[str, Any]:
        """A copy of the trial's parameters (trial code may change what it gets)."""
        return copy.deepcopy(self.params)

    def report_final(self, value: Any) -> None:
        """The trial's result, given by the code (``nni.report_final_result``): it wins over the
        function's return value. Once per trial; the value follows the rule of results."""
        with self._lock:
            if self.final_reported:
                raise AutotuneError(
                    f"trial {self.trial_number}: nni.report_final_result was called a second time (with "
                    f"{value!r}; the first call reported {self.final_result!r}): a trial has one final result"
                )
            parse_result(value)  # a number, or {"default": number, ...}: refused here, at the call
            self.final_reported, self.final_result = True, value

    def report(self, value: Any, step: int | None = None) -> None:
        number = _as_report_value(value)
        if step is not None and (isinstance(step, bool) or not isinstance(step, numbers.Integral)):
            raise InvalidResultError(f"at.report got step={step!r}: a step is an integer (or leave it out)")
        with self._lock:
            self.step = self.step + 1 if step is None else int(step)
            reported_step = self.step
            stop = self._deliver(self.trial_number, reported_step, number)
        if stop:
            raise TrialStopped(f"trial {self.trial_number} stopped early by the assessor at step {reported_step}")


def run_with_reports(fn: Callable[[dict], Any], trial_number: int, params: Mapping[str, Any],
                     deliver: Deliver, *, in_worker: bool, experiment_id: str | None = None,
                     budget: float | None = None, checkpoint_dir: str | None = None) -> Outcome:
    """Run one trial with ``report`` wired to ``deliver``; its end, whatever it is, as an Outcome.

    The one place where a trial's result, early stop or own error (``sys.exit()`` included) is
    told apart, for every pool. ``in_worker``: the trial runs in a pool's worker (a process, or a
    Dask worker thread), where any exception is the trial's own, a ``KeyboardInterrupt`` included
    (local workers ignore Ctrl-C, so the trial's code raised it). In the study's own thread (the
    inline pool) a ``KeyboardInterrupt`` is the user's Ctrl-C or Jupyter interrupt: it propagates
    to the study loop, which cancels the run.

    While ``fn`` runs, ``import nni`` gives NNI's trial API (``nni_module``); ``experiment_id`` is
    what its ``get_experiment_id()`` returns (the study's name). A final result the code reported
    with ``nni.report_final_result`` is the trial's result, whatever ``fn`` returned. ``budget`` and
    ``checkpoint_dir`` are the trial's directives as its code reads them (``trial_directive``).
    """
    own_errors = BaseException if in_worker else (Exception, SystemExit)
    context = TrialContext(trial_number, deliver, params, experiment_id, budget, checkpoint_dir)
    try:
        with nni_module(), active(context):
            result = fn(dict(params))
    except TrialStopped:
        return Outcome(trial_number, OutcomeKind.STOPPED)
    except own_errors as exc:
        return error_outcome(trial_number, exc)
    if context.final_reported:
        result = context.final_result
    return Outcome(trial_number, OutcomeKind.RESULT, result=result)


_ABSENT = object()
_nni_lock = threading.Lock()
_nni_depth = 0  # trials of this process running with the shim installed (Dask runs several at once)
_nni_saved: Any = _ABSENT  # sys.modules["nni"] before the first of them began


@contextlib.contextmanager
def nni_module() -> Iterator[None]:
    """``sys.modules["nni"]`` is ``autotune_nb.nni_api`` inside: ``import nni`` in a trial is NNI's
    trial API, the real package installed or not. The entry before (the real package, or none) is
    restored exactly when the last trial running in this process ends, on an exception too, so
    outside trials ``import nni`` is the real package or an ImportError. (Other threads of the
    process see the shim while a trial runs: the inline pool's trials run in the kernel's process.)"""
    global _nni_depth, _nni_saved
    shim = importlib.import_module("autotune_nb.nni_api")
    with _nni_lock:
        if _nni_depth == 0:
            _nni_saved = sys.modules.get("nni", _ABSENT)
        _nni_depth += 1
        sys.modules["nni"] = shim
    try:
        yield
    finally:
        with _nni_lock:
            _nni_depth -= 1
            if _nni_depth == 0:
                saved, _nni_saved = _nni_saved, _ABSENT
                if saved is _ABSENT:
                    sys.modules.pop("nni", None)
                else:
                    sys.modules["nni"] = saved


def _as_report_value(value: Any) -> float:
    if isinstance(value, Mapping):
        if "default" not in value:
            raise InvalidResultError(f"at.report got {value!r}: a dict needs a 'default' key (NNI's form)")
        value = value["default"]
    return finite_number(value, what="the value given to at.report")


@contextlib.contextmanager
def active(context: TrialContext) -> Iterator[TrialContext]:
    token = _current.set(context)
    with _running_lock:
        _running.append(context)
    try:
        yield context
    finally:
        with _running_lock:
            _running.remove(context)
        _current.reset(token)


def dedicate_process() -> None:
    """Declare this process a worker that runs one trial at a time, for one study: a report from a
    thread without a trial context then goes to the running trial. Called by local workers."""
    global _dedicated
    _dedicated = True


def current() -> TrialContext | None:
    return _current.get()


def _reporting_context(call: str = "at.report") -> TrialContext | None:
    """The trial a report belongs to: its thread's, else the one a thread's report goes to (module
    docstring); None outside a study. Raises ``ReportFromThreadError`` where it cannot be told.
    ``call`` names the function in those errors (``nni.report_intermediate_result``, ...)."""
    context = _current.get()
    if context is not None:
        return context
    with _running_lock:
        running = list(_running)
    thread = threading.current_thread()
    if _dedicated:
        if len(running) == 1 and thread not in running[0].threads_before:
            return running[0]
        raise ReportFromThreadError(
            f"{call} was called from thread {thread.name!r}, which no running trial started (it was "
            "alive before the running trial began, or its own trial has ended): the report cannot be "
            "delivered. Join the threads a trial starts before the trial returns"
        )
    if not running:
        return None  # plain code, outside any study
    numbers_running = ", ".join(str(c.trial_number) for c in running)
    raise ReportFromThreadError(
        f"{call} was called from thread {thread.name!r}, which runs no trial, while trial(s) "
        f"{numbers_running} run in this process: new threads do not inherit the trial, and this pool (inline, "
        "or Dask, whose workers run several trials at once) cannot tell which trial the report belongs to. "
        f"Call {call} from the trial's own thread, or run the study with executor='local', where a "
        "trial's threads may report"
    )


def trial_directive(name: str) -> Any:
    """``at.budget`` and ``at.checkpoint_dir``: the running trial's budget (a number, in the unit it
    reports in) and its checkpoint folder; None outside a study or where the tuner gives none."""
    context = _reporting_context(f"at.{name}")
    return None if context is None else getattr(context, name)


def report(value: Any, step: int | None = None) -> None:
    """Send an intermediate result of the running trial to its study.

    ``step`` defaults to 1, 2, 3, ... per call. Raises ``TrialStopped`` when the study's assessor
    decided to stop this trial: let it propagate (from a thread the trial started, the stop is
    raised in that thread: end the trial with it). Outside a study this does nothing; a report
    that cannot reach its trial raises ``ReportFromThreadError`` (module docstring).
    """
    context = _reporting_context()
    if context is not None:
        context.report(value, step)
