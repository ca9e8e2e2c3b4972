"""What comes back of a failed trial: one traceback formatter for every pool, starting at the
user's code unless the error arose in autotune_nb's machinery alone."""

from __future__ import annotations

from autotune_nb.execution.channel import Endpoint
from autotune_nb.execution.context import run_with_reports
from autotune_nb.execution.shipping import UNSENDABLE, error_outcome
from autotune_nb.execution.worker import StudyHandle, WorkerJob, run_trial
from autotune_nb.vocabulary import OutcomeKind


def users_trial(params):
    raise KeyError(params["missing"])


def test_a_trials_traceback_starts_at_the_users_code():
    outcome = run_with_reports(users_trial, 3, {}, lambda *report: False, in_worker=True)

    assert (outcome.trial_number, outcome.kind, outcome.reason) == (3, OutcomeKind.ERROR, "KeyError: 'missing'")
    assert outcome.error.startswith("Traceback") and "in users_trial" in outcome.error
    assert "autotune_nb/execution" not in outcome.error


def test_an_error_of_the_machinery_alone_keeps_its_whole_traceback(tmp_path):
    study = StudyHandle("key", str(tmp_path / "no-function.pkl"), Endpoint(("127.0.0.1", 9), b"key"))
    outcome = run_trial(WorkerJob(study, 4, {}))

    assert outcome.kind == OutcomeKind.ERROR and outcome.reason.startswith("FileNotFoundError")
    assert "autotune_nb/execution/worker.py" in outcome.error


def test_an_error_that_is_not_the_trials_own_says_so_before_the_exception():
    try:
        raise TypeError("cannot pickle '_thread.lock' object")
    except TypeError as exc:
        outcome = error_outcome(5, exc, UNSENDABLE)

    assert outcome.reason == f"{UNSENDABLE}: TypeError: cannot pickle '_thread.lock' object"
    assert outcome.error.rstrip().endswith("TypeError: cannot pickle '_thread.lock' object")
