"""The contract every trial pool keeps. Subclass ``PoolContract`` in a test module, implement
``make_pool`` and declare what the pool cannot do; pytest runs the whole suite on real trials.

The suite drives the pool as the run loop does (``run_loop.py``): ``start`` with a sink, ``submit``
on a free slot, ``cancel`` for a timeout or a stop, ``shutdown``. Timeouts are the loop's business:
it cancels the slot of a trial that ran too long, so a pool's part is ``cancel`` with the reason.

A pool declares its limits with class attributes instead of skipping tests, and the suite checks
the declaration too:

* ``runs_trials_in_this_process``: trials run in the study's process (the inline pool). Then a
  trial that kills its process would end the study (and the test run): that test is skipped with
  this reason, and a trial is checked to see the study's pid.
* ``cancels_running_trials``: False where ``cancel`` cannot end a running trial (the inline pool
  runs it in the caller's thread): the suite then checks that cancel changes nothing.

Example:
    class TestLocalPool(PoolContract):
        def make_pool(self):
            return LocalPool(2)
"""

from __future__ import annotations

import os
import queue
import threading
import time
from typing import Any, Callable

import pytest

from ..execution.base import Outcome, Pool, Slot, TrialJob
from ..execution.context import report
from ..vocabulary import OutcomeKind

#: Seconds a test waits for an outcome or a report before failing: a guard against a hung pool,
#: never a measure of speed.
PATIENCE = 30.0
_REPORT_EVERY = 0.02  # seconds between the reports of a trial that reports until it is stopped


def contract_trial(params: dict) -> Any:
    """The trial function of the suite; ``params["action"]`` says what the trial does."""
    action = params["action"]
    if action == "return":
        return {"default": params["value"], "pid": os.getpid()}
    if action == "raise":
        raise ValueError(f"boom in trial {params['value']}")
    if action == "report":
        for value in params["values"]:
            report(value)
        return {"default": 0.0}
    if action == "report_until_stopped":  # reports its pid, so the test knows where it runs
        for _ in range(int(2 * PATIENCE / _REPORT_EVERY)):
            report(os.getpid())
            time.sleep(_REPORT_EVERY)
        return {"default": -1.0}  # never told to stop
    if action == "exit":
        os._exit(3)
    raise ValueError(f"contract_trial: unknown action {action!r}")


def other_trial(params: dict) -> str:
    """A second trial function, for a pool started again after its shutdown."""
    return "other"


def job(number: int, action: str, **params: Any) -> TrialJob:
    return TrialJob(number, {"action": action, **params})


class RecordingSink:
    """The study's side of a pool under test: records reports and outcomes.

    A report is answered "stop" from ``stop_at_step`` on; ``when_reported(n, callback)`` runs
    ``callback`` (once) at trial ``n``'s first report, in the thread that delivers it.
    """

    def __init__(self, stop_at_step: int | None = None):
        self.stop_at_step = stop_at_step
        self.reports: list[tuple[int, int, float]] = []
        self._outcomes: queue.Queue[Outcome] = queue.Queue()
        self._reported: dict[int, threading.Event] = {}
        self._callbacks: dict[int, Callable[[], None]] = {}
        self._lock = threading.Lock()

    # --- EventSink ---------------------------------------------------------------------------------
    def on_report(self, trial_number: int, step: int, value: float) -> bool:
        with self._lock:
            self.reports.append((trial_number, step, value))
            callback = self._callbacks.pop(trial_number, None)
            self._event(trial_number).set()
        if callback is not None:
            callback()
        return self.stop_at_step is not None and step >= self.stop_at_step

    def on_outcome(self, outcome: Outcome) -> None:
        self._outcomes.put(outcome)

    # --- for the tests -----------------------------------------------------------------------------
    def when_reported(self, trial_number: int, callback: Callable[[], None]) -> None:
        with self._lock:
            self._callbacks[trial_number] = callback

    def first_report(self, trial_number: int) -> tuple[int, int, float]:
        """Wait for trial ``trial_number``'s first report and return it."""
        with self._lock:
            event = self._event(trial_number)
        if not event.wait(PATIENCE):
            pytest.fail(f"trial {trial_number} did not report within {PATIENCE:g}s")
        with self._lock:
            return next(r for r in self.reports if r[0] == trial_number)

    def next_outcome(self) -> Outcome:
        try:
            return self._outcomes.get(timeout=PATIENCE)
        except queue.Empty:
            pytest.fail(f"no outcome reached the sink within {PATIENCE:g}s")

    def outcomes_so_far(self) -> list[Outcome]:
        outcomes = []
        while not self._outcomes.empty():
            outcomes.append(self._outcomes.get_nowait())
        return outcomes

    def _event(self, trial_number: int) -> threading.Event:
        return self._reported.setdefault(trial_number, threading.Event())


class PoolContract:
    #: Trials run in the study's own process (see the module docstring).
    runs_trials_in_this_process = False
    #: ``cancel`` ends a running trial at once with a "died" outcome (see the module docstring).
    cancels_running_trials = True

    def make_pool(self) -> Pool:
        raise NotImplementedError("return a new, unstarted pool of the kind under test")

    @pytest.fixture
    def pool(self):
        pool = self.make_pool()
        yield pool
        pool.shutdown()

    @pytest.fixture
    def sink(self, pool):
        sink = RecordingSink()
        pool.start(contract_trial, sink)
        return sink

    def assert_slot_serves(self, pool: Pool, sink: RecordingSink, slot: Slot, number: int) -> None:
        """A new job on ``slot`` runs, and its outcome is the next one the sink gets."""
        pool.submit(slot, job(number, "return", value=float(number)))
        outcome = sink.next_outcome()
        assert (outcome.trial_number, outcome.kind) == (number, OutcomeKind.RESULT), outcome
        assert outcome.result["default"] == number

    # --- the suite ---------------------------------------------------------------------------------
    def test_every_slot_returns_its_trials_result(self, pool, sink):
        for number, slot in enumerate(pool.slots):
            self.assert_slot_serves(pool, sink, slot, number)

    def test_trials_run_where_the_pool_declares(self, pool, sink):
        pool.submit(pool.slots[0], job(0, "return", value=0.0))
        ran_here = sink.next_outcome().result["pid"] == os.getpid()
        assert ran_here == self.runs_trials_in_this_process

    def test_an_error_ends_the_trial_with_its_traceback(self, pool, sink):
        pool.submit(pool.slots[0], job(7, "raise", value=7))

        outcome = sink.next_outcome()
        assert (outcome.trial_number, outcome.kind) == (7, OutcomeKind.ERROR)
        assert outcome.reason == "ValueError: boom in trial 7"
        assert outcome.error.startswith("Traceback") and "in contract_trial" in outcome.error
        assert outcome.error.rstrip().endswith("ValueError: boom in trial 7")
        self.assert_slot_serves(pool, sink, pool.slots[0], 8)

    def test_reports_reach_the_sink_in_order(self, pool, sink):
        pool.submit(pool.slots[0], job(3, "report", values=[0.5, 0.25, 0.125]))

        assert sink.next_outcome().kind == OutcomeKind.RESULT
        assert sink.reports == [(3, 1, 0.5), (3, 2, 0.25), (3, 3, 0.125)]

    def test_a_stop_answer_ends_the_trial_at_that_report(self, pool, sink):
        sink.stop_at_step = 2
        pool.submit(pool.slots[0], job(4, "report_until_stopped"))

        outcome = sink.next_outcome()
        assert (outcome.trial_number, outcome.kind) == (4, OutcomeKind.STOPPED)
        assert [step for _, step, _ in sink.reports] == [1, 2]

    @pytest.mark.parametrize("reason", ["timeout", "stopped"])
    def test_cancel_ends_a_running_trial_died_with_the_reason(self, pool, sink, reason):
        slot = pool.slots[-1]
        if not self.cancels_running_trials:  # declared: the trial's own end follows, cancel changes nothing
            sink.when_reported(5, lambda: pool.cancel(slot, reason))
            pool.submit(slot, job(5, "report", values=[1.0, 2.0]))
            assert sink.next_outcome().kind == OutcomeKind.RESULT
            return
        pool.submit(slot, job(5, "report_until_stopped"))
        sink.first_report(5)
        pool.cancel(slot, reason)

        outcome = sink.next_outcome()
        assert (outcome.trial_number, outcome.kind) == (5, OutcomeKind.DIED)
        assert reason in outcome.reason
        self.assert_slot_serves(pool, sink, slot, 6)

    def test_cancel_of_a_slot_whose_trial_ended_reports_nothing(self, pool, sink):
        self.assert_slot_serves(pool, sink, pool.slots[0], 0)
        pool.cancel(pool.slots[0], "stopped")  # the run loop does so when an outcome was on its way

        assert sink.outcomes_so_far() == []
        self.assert_slot_serves(pool, sink, pool.slots[0], 1)

    def test_a_dying_worker_ends_its_trial_died_and_the_slot_goes_on(self, pool, sink):
        if self.runs_trials_in_this_process:
            pytest.skip("declared runs_trials_in_this_process: os._exit() in a trial would end the study too")
        pool.submit(pool.slots[0], job(9, "exit"))

        outcome = sink.next_outcome()
        assert (outcome.trial_number, outcome.kind) == (9, OutcomeKind.DIED)
        assert outcome.reason.startswith("worker died")
        self.assert_slot_serves(pool, sink, pool.slots[0], 10)

    def test_shutdown_reports_nothing_more_and_the_pool_starts_again(self, pool, sink):
        if pool.runs_inline:  # submit returns once the trial ended: none runs at shutdown
            self.assert_slot_serves(pool, sink, pool.slots[0], 0)
        else:
            pool.submit(pool.slots[0], job(0, "report_until_stopped"))
            sink.first_report(0)
        pool.shutdown()
        assert sink.outcomes_so_far() == []

        again = RecordingSink()
        pool.start(other_trial, again)
        pool.submit(pool.slots[0], job(1, "return"))
        outcome = again.next_outcome()
        assert (outcome.trial_number, outcome.kind, outcome.result) == (1, OutcomeKind.RESULT, "other")
