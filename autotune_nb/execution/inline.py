"""The in-process pool: one slot, each trial run in the study's own thread. For plain Python use,
debugging, and functions that cannot leave the process."""

from __future__ import annotations

from typing import Any, Callable

from .base import EventSink, Pool, Slot, TrialJob
from .context import run_with_reports


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
        # A KeyboardInterrupt here is the user's, for the study loop: in_worker=False lets it through.
        outcome = run_with_reports(self._fn, job.trial_number, job.params, self._sink.on_report, in_worker=False,
                                   experiment_id=job.study_name, budget=job.budget,
                                   checkpoint_dir=job.checkpoint_dir)
        self._sink.on_outcome(outcome)

    def cancel(self, slot: Slot, reason: str) -> None:
        """An inline trial cannot be ended from outside; the study waits for it."""

    def shutdown(self) -> None:
        self._fn = self._sink = None
