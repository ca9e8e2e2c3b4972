"""The in-process pool: one slot, each trial run in the study's own thread. For plain Python use,
debugging, and functions that cannot leave the process."""

from __future__ import annotations

from typing import Any, Callable

from ..errors import TrialStopped
from .base import EventSink, Outcome, Pool, Slot, TrialJob
from .context import TrialContext, active, format_trial_error


class _InlineContext(TrialContext):
    def __init__(self, trial_number: int, sink: EventSink):
        super().__init__(trial_number)
        self._sink = sink

    def _send(self, step: int, value: float) -> bool:
        return self._sink.on_report(self.trial_number, step, value)


class InlinePool(Pool):
    def __init__(self) -> None:
        self.slots = [Slot(0)]
        self._fn: Callable[[dict], Any] | None = None
        self._sink: EventSink | None = None

    @property
    def runs_inline(self) -> bool:
        return True

    def start(self, fn: Callable[[dict], Any], sink: EventSink) -> None:
        self._fn, self._sink = fn, sink

    def submit(self, slot: Slot, job: TrialJob) -> None:
        assert self._fn is not None and self._sink is not None, "start() the pool first"
        with active(_InlineContext(job.trial_number, self._sink)):
            try:
                result = self._fn(dict(job.params))
            except TrialStopped:
                outcome = Outcome(job.trial_number, "stopped")
            except Exception as exc:  # the trial's own error: kept with its traceback
                outcome = Outcome(job.trial_number, "error", error=format_trial_error(exc),
                                  reason=f"{type(exc).__name__}: {exc}")
            else:
                outcome = Outcome(job.trial_number, "result", result=result)
        self._sink.on_outcome(outcome)

    def cancel(self, slot: Slot, reason: str) -> None:
        """An inline trial cannot be ended from outside; the study waits for it."""

    def shutdown(self) -> None:
        self._fn = self._sink = None
