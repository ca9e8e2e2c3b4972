"""The run loop (``run_loop.RunLoop``) on a scripted pool: the test decides when each trial ends
and how (``autotune_nb.testing.fake_pool``), so every ordering below is exact, not a race."""

from __future__ import annotations

import threading

import pytest

import autotune_nb as at
from autotune_nb import TrialState
from autotune_nb.execution.base import Outcome
from autotune_nb.testing.fake_pool import FakePool
from autotune_nb.vocabulary import OutcomeKind, StudyState

pytestmark = pytest.mark.timeout(30)


def not_called(params):
    raise AssertionError("a FakePool runs no trial function")


def run(pool, *, study=None, **options):
    study = study or at.Study({"x": at.uniform(0, 1)}, tuner="Random", seed=0)
    return study.run(not_called, executor=pool, **options)


def succeed_at_once(pool, job):
    job.succeed(float(job.number))


def test_a_freed_slot_gets_the_next_trial_while_the_other_slot_still_runs():
    seen = []  # (trial, its slot, the other trials running when it was submitted)

    def end_the_previous_trial(pool, job):
        seen.append((job.number, job.slot.index, [other.number for other in pool.running() if other is not job]))
        if job.number > 0:
            pool.job(job.number - 1).succeed(1.0)
        if job.number == 4:
            job.succeed(1.0)

    study = run(FakePool(2, on_submit=end_the_previous_trial), max_trials=5)

    assert seen == [(0, 0, []), (1, 1, [0]), (2, 0, [1]), (3, 1, [2]), (4, 0, [3])]
    assert [t.state for t in study.trials] == [TrialState.SUCCEEDED] * 5


def test_max_trials_bounds_the_trials_started():
    pool = FakePool(3, on_submit=succeed_at_once)
    study = run(pool, max_trials=7)

    assert [job.number for job in pool.jobs] == list(range(7))
    assert [t.value for t in study.trials] == [float(n) for n in range(7)]
    assert pool.shut_down and study.stop_reason is None


def test_each_outcome_kind_ends_its_trial_in_its_state():
    def end_by_number(pool, job):
        if job.number == 0:
            job.succeed({"default": 0.5, "loss": 2.0})
        elif job.number == 1:
            job.fail("bad input")
        elif job.number == 2:
            job.stop()
        else:
            job.die("worker died: SIGKILL")

    study = run(FakePool(1, on_submit=end_by_number), max_trials=4, max_failures=0)

    succeeded, failed, stopped, died = study.trials
    assert (succeeded.state, succeeded.value, dict(succeeded.metrics)) == (TrialState.SUCCEEDED, 0.5, {"loss": 2.0})
    assert (failed.state, failed.reason) == (TrialState.FAILED, "RuntimeError: bad input")
    assert "bad input" in failed.error
    assert (stopped.state, stopped.reason) == (TrialState.EARLY_STOPPED, "stopped early by the assessor")
    assert (died.state, died.reason) == (TrialState.FAILED, "worker died: SIGKILL")


def test_reports_reach_the_trial_and_a_trial_the_study_ended_is_told_to_stop():
    answers = []

    def report_twice_then_hang(pool, job):
        answers.extend([job.report(0.5), job.report(0.25)])

    def report_once_more_then_die(job, reason):
        answers.append(job.report(0.125))  # the trial is TIMEOUT already
        job.die(f"worker terminated: {reason}")

    pool = FakePool(1, on_submit=report_twice_then_hang, on_cancel=report_once_more_then_die)
    study = run(pool, max_trials=1, trial_timeout=0.1)

    assert answers == [False, False, True]
    assert study.trials[0].intermediates == ((1, 0.5), (2, 0.25))


def test_trial_timeout_cancels_the_slot_of_the_trial_that_ran_too_long():
    def hang_first_then_succeed(pool, job):
        if job.number > 0:
            job.succeed(1.0)

    pool = FakePool(1, on_submit=hang_first_then_succeed)
    study = run(pool, max_trials=2, trial_timeout=0.1)

    timed_out, next_one = study.trials
    assert (timed_out.state, timed_out.reason) == (TrialState.TIMEOUT, "ran past trial_timeout=0.1s")
    assert pool.canceled == [(0, "timeout")]
    assert next_one.state == TrialState.SUCCEEDED and pool.job(1).slot == pool.job(0).slot


def test_a_late_outcome_after_a_timeout_changes_nothing():
    """A result already on its way when the timeout's cancel came, and an outcome sent twice: the
    trial stays TIMEOUT, and its slot is freed once (a second free would put two trials on it)."""

    def script(pool, job):
        if job.number == 1:
            pool.send(Outcome(0, OutcomeKind.RESULT, result=7.0))  # trial 0's outcome once more
        if job.number in (1, 3):
            job.succeed(float(job.number))

    pool = FakePool(1, on_submit=script, on_cancel=lambda job, reason: job.succeed(5.0))
    study = run(pool, max_trials=4, trial_timeout=0.1)

    assert [(t.state, t.value) for t in study.trials] == [(TrialState.TIMEOUT, None), (TrialState.SUCCEEDED, 1.0),
                                                          (TrialState.TIMEOUT, None), (TrialState.SUCCEEDED, 3.0)]
    assert pool.canceled == [(0, "timeout"), (2, "timeout")]


def test_the_failure_rule_counts_only_the_trials_of_the_current_run():
    study = at.Study({"x": at.uniform(0, 1)}, tuner="Random", seed=0)
    run(FakePool(1, on_submit=lambda pool, job: job.fail()), study=study, max_trials=5, max_failures=2)
    assert [t.state for t in study.trials] == [TrialState.FAILED] * 2
    assert "the first 2 trials of this run all failed" in study.stop_reason

    def fail_the_first(pool, job):
        if job is pool.jobs[0]:
            job.fail()
        else:
            job.succeed(1.0)

    run(FakePool(1, on_submit=fail_the_first), study=study, max_trials=3, max_failures=2)
    assert [t.state for t in study.trials[2:]] == [TrialState.FAILED, TrialState.SUCCEEDED, TrialState.SUCCEEDED]
    assert study.stop_reason is None


def test_stop_cancels_the_running_trials_and_starts_no_more():
    study = at.Study({"x": at.uniform(0, 1)}, tuner="Random", seed=0)

    def stop_once_both_run(pool, job):
        if job.number == 1:  # from another thread, as the dashboard's button does
            threading.Thread(target=study.stop).start()

    pool = FakePool(2, on_submit=stop_once_both_run)
    run(pool, study=study, max_trials=10)

    assert [job.number for job in pool.jobs] == [0, 1]
    assert pool.canceled == [(0, "stopped"), (1, "stopped")]
    assert [(t.state, t.reason) for t in study.trials] == [(TrialState.CANCELED, "study stopped")] * 2
    assert study.stop_reason == "stopped by request" and study.state == StudyState.STOPPED
