"""One run of a study: the ask/tell loop over a pool's slots, with its deadline and its failure rule.

A ``RunLoop`` lives for one ``Study.run``. It asks the study's tuner for a configuration whenever a
slot is free, submits it, and turns each outcome the pool reports into the trial's end. It is also
the pool's ``EventSink``: outcomes are queued for the loop's thread, intermediate results are
handed to the study at once (the assessor answers the worker while the trial runs).

Everything a run counts is its own: the trials it started, its failures, its deadline. So a study
whose first trials all failed in one run is judged afresh by the next run.
"""

from __future__ import annotations

import queue
import time
from typing import TYPE_CHECKING, Any, Callable

from .execution.base import Outcome, Pool, Slot
from .trial import TrialState

if TYPE_CHECKING:
    from .study import Study


class RunLoop:
    """Runs up to ``max_trials`` trials of ``fn`` for ``study`` on ``pool`` (see ``Study.run``)."""

    def __init__(self, study: "Study", pool: Pool, *, max_trials: int, max_duration: float | None,
                 trial_timeout: float | None, failures_limit: int):
        self.study = study
        self.pool = pool
        self.max_trials = max_trials
        self.trial_timeout = trial_timeout
        self.failures_limit = failures_limit
        self.deadline = None if max_duration is None else time.monotonic() + max_duration
        self.started: list[int] = []  # numbers of the trials this run started, in order
        self.running: dict[int, tuple[Slot, float]] = {}  # trial number -> (slot, start time)
        self.free_slots: list[Slot] = list(pool.slots)
        self._events: queue.Queue = queue.Queue()

    # --- the pool's sink ---------------------------------------------------------------------------
    def on_report(self, trial_number: int, step: int, value: float) -> bool:
        return self.study._report(trial_number, step, value)

    def on_outcome(self, outcome: Outcome) -> None:
        self._events.put(outcome)

    def wake(self) -> None:
        """Make a waiting loop look at the study's stop request now."""
        self._events.put(None)

    # --- the loop ----------------------------------------------------------------------------------
    def run(self, fn: Callable[[dict], Any]) -> None:
        """Run until max_trials have started and ended, the tuner is exhausted, the deadline passed,
        the failure rule fired or a stop was asked. A KeyboardInterrupt cancels the running trials
        (each ends CANCELED, every finished one is kept) and is not raised further."""
        study = self.study
        try:
            self.pool.start(fn, self)
            while True:
                self._fill_slots()
                if not self.running:
                    break
                if self._should_end():
                    self._cancel_running("stopped" if study._stop_requested.is_set() else "timeout")
                    continue
                self._expire()
                self._drain(block=True, timeout=self._wait_time())
        except KeyboardInterrupt:
            study.stop_reason = "interrupted"
            study._stop_requested.set()
            self._cancel_running("interrupted")
        finally:
            self.pool.shutdown()

    def _fill_slots(self) -> None:
        study = self.study
        while self.free_slots and len(self.started) < self.max_trials and not self._should_end():
            configs = study.tuner.suggest(1)
            if not configs:  # with trials running, the tuner may be waiting for them (a Hyperband rung)
                if not self.running:
                    study.stop_reason = f"the tuner {study.config.tuner} has no configuration left to suggest"
                return
            slot = self.free_slots.pop(0)
            trial = study._new_trial(configs[0], slot, study.tuner.directives(configs[0]))
            self.running[trial.number] = (slot, time.monotonic())
            self.started.append(trial.number)
            self.pool.submit(slot, study._job(trial))
            if self.pool.runs_inline:
                self._drain(block=False)

    def _should_end(self) -> bool:
        study = self.study
        if study._stop_requested.is_set():
            return True
        if self.deadline is not None and time.monotonic() >= self.deadline:
            study.stop_reason = "the study reached max_duration"
            return True
        first = [study._trial(n) for n in self.started[:self.failures_limit]]
        if (self.failures_limit > 0 and len(first) == self.failures_limit
                and all(t.state == TrialState.FAILED for t in first)):
            study.stop_reason = (f"the first {self.failures_limit} trials of this run all failed (max_failures); "
                                 f"the first one with: {first[0].reason}")
            study._stop_requested.set()
            return True
        return False

    def _wait_time(self) -> float:
        now = time.monotonic()
        waits = [1.0]
        if self.trial_timeout is not None:
            waits += [start + self.trial_timeout - now for _, start in self.running.values()]
        if self.deadline is not None:
            waits.append(self.deadline - now)
        return max(0.0, min(waits))

    def _expire(self) -> None:
        if self.trial_timeout is None:
            return
        now = time.monotonic()
        for number, (slot, start) in list(self.running.items()):
            if now - start >= self.trial_timeout:
                self.study._finish(number, TrialState.TIMEOUT,
                                   reason=f"ran past trial_timeout={self.trial_timeout:g}s")
                self.pool.cancel(slot, "timeout")

    def _cancel_running(self, why: str) -> None:
        for number, (slot, _) in list(self.running.items()):
            if not self.study._trial(number).state.is_finished:
                state = TrialState.TIMEOUT if why == "timeout" else TrialState.CANCELED
                reason = "the study reached max_duration" if why == "timeout" else f"study {why}"
                self.study._finish(number, state, reason=reason)
            self.pool.cancel(slot, why)
        self.running.clear()

    def _drain(self, *, block: bool, timeout: float = 0.0) -> None:
        """Handle the queued outcomes; with ``block``, wait up to ``timeout`` for the first one."""
        try:
            item = self._events.get(block=block, timeout=timeout if block else None)
        except queue.Empty:
            return
        while True:
            if isinstance(item, Outcome) and item.trial_number in self.running:
                slot, _ = self.running.pop(item.trial_number)
                self.free_slots.append(slot)
                self.study._record_outcome(item)
            try:
                item = self._events.get_nowait()
            except queue.Empty:
                return
