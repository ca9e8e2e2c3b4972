"""A scripted pool for unit tests of the run loop: no trial function runs, the test ends each job.

``FakePool`` keeps the ``Pool`` interface in this process. Each submitted job becomes a
``FakeJob`` that stays running until the test ends it (``succeed``, ``fail``, ``die``, or a
report answered "stop" followed by ``stop``). The test acts from ``on_submit(pool, job)``, which
the pool calls in the loop's thread as each job is submitted, so it decides exactly what runs at
once and in which order, without sleeping. ``cancel`` ends the slot's job "died", as the real
pools do, unless ``on_cancel(job, reason)`` ends it otherwise (a result already on its way).

The pool checks the loop's side of the contract: ``submit`` only on a free slot of its own,
only between ``start`` and ``shutdown``; a breach raises ``AssertionError`` into the run.

Example:
    >>> def finish_at_once(pool, job):
    ...     job.succeed(job.params["x"])
    >>> study = Study({"x": uniform(0, 1)}, tuner="Random", seed=0)  # doctest: +SKIP
    >>> study.run(lambda p: p, max_trials=3, executor=FakePool(2, on_submit=finish_at_once))  # doctest: +SKIP
"""

from __future__ import annotations

import threading
from typing import Any, Callable

from ..execution.base import EventSink, Outcome, Pool, Slot, TrialJob
from ..vocabulary import OutcomeKind


class FakeJob:
    """One submitted job; its ``outcome`` is None while it runs."""

    def __init__(self, pool: "FakePool", slot: Slot, job: TrialJob):
        self.slot = slot
        self.number = job.trial_number
        self.params = dict(job.params)
        self.outcome: Outcome | None = None
        self.step = 0
        self._pool = pool

    @property
    def running(self) -> bool:
        return self.outcome is None

    def report(self, value: float) -> bool:
        """Send the next intermediate result; True when the study answers "stop"."""
        self.step += 1
        return self._pool.sink.on_report(self.number, self.step, value)

    def succeed(self, result: Any) -> None:
        self._end(Outcome(self.number, OutcomeKind.RESULT, result=result))

    def fail(self, message: str = "boom") -> None:
        self._end(Outcome(self.number, OutcomeKind.ERROR, error=f"Traceback: RuntimeError: {message}",
                          reason=f"RuntimeError: {message}"))

    def stop(self) -> None:
        """End as a trial does that raised TrialStopped at its report."""
        self._end(Outcome(self.number, OutcomeKind.STOPPED))

    def die(self, reason: str = "worker died: scripted") -> None:
        self._end(Outcome(self.number, OutcomeKind.DIED, reason=reason))

    def _end(self, outcome: Outcome) -> None:
        with self._pool.lock:
            if self.outcome is not None:
                raise AssertionError(f"trial {self.number} already ended ({self.outcome.kind}); "
                                     "send an outcome after a job's end with FakePool.send")
            self.outcome = outcome
        self._pool.send(outcome)


class FakePool(Pool):
    """``concurrency`` slots; ``jobs`` holds every submitted job in order, ``canceled`` the
    ``(trial_number, reason)`` of every job that ``cancel`` ended."""

    def __init__(self, concurrency: int = 1, *, on_submit: Callable[["FakePool", FakeJob], None] | None = None,
                 on_cancel: Callable[[FakeJob, str], None] | None = None):
        self.slots = [Slot(i) for i in range(concurrency)]
        self.on_submit = on_submit
        self.on_cancel = on_cancel
        self.jobs: list[FakeJob] = []
        self.canceled: list[tuple[int, str]] = []
        self.started = self.shut_down = False
        self.sink: EventSink | None = None
        self.lock = threading.RLock()

    def job(self, trial_number: int) -> FakeJob:
        return next(job for job in self.jobs if job.number == trial_number)

    def running(self) -> list[FakeJob]:
        with self.lock:
            return [job for job in self.jobs if job.running]

    def send(self, outcome: Outcome) -> None:
        """Hand ``outcome`` to the loop as-is: a job's own end, or one that comes after it (late)."""
        self.sink.on_outcome(outcome)

    # --- Pool --------------------------------------------------------------------------------------
    def start(self, fn: Callable[[dict], Any], sink: EventSink) -> None:
        self.sink, self.started, self.shut_down = sink, True, False

    def submit(self, slot: Slot, job: TrialJob) -> None:
        with self.lock:
            if not self.started or self.shut_down:
                raise AssertionError(f"trial {job.trial_number} submitted to a pool that is not started")
            if slot not in self.slots:
                raise AssertionError(f"trial {job.trial_number} submitted to {slot}, not a slot of this pool")
            busy = [other.number for other in self.jobs if other.running and other.slot == slot]
            if busy:
                raise AssertionError(f"trial {job.trial_number} submitted to slot {slot.index}, "
                                     f"where trial {busy[0]} still runs")
            fake = FakeJob(self, slot, job)
            self.jobs.append(fake)
        if self.on_submit is not None:
            self.on_submit(self, fake)

    def cancel(self, slot: Slot, reason: str) -> None:
        with self.lock:
            running = [job for job in self.jobs if job.running and job.slot == slot]
        if not running:
            return
        job = running[0]
        self.canceled.append((job.number, reason))
        if self.on_cancel is not None:
            self.on_cancel(job, reason)
        else:
            job.die(f"worker terminated: {reason}")

    def shutdown(self) -> None:
        self.shut_down = True
