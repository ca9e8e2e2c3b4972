"""``sys.modules["nni"]`` while trials run in this process (the inline pool, Dask worker threads):
the shim inside, the exact entry from before afterwards, whatever way the trial ends."""

from __future__ import annotations

import sys
import threading
import types

import pytest

from autotune_nb import nni_api
from autotune_nb.execution.context import run_with_reports
from autotune_nb.vocabulary import OutcomeKind


def no_stop(trial_number, step, value):
    return False


@pytest.fixture(params=["absent", "installed"])
def before(request, monkeypatch):
    """What ``sys.modules["nni"]`` holds before the trials: nothing, or the real package."""
    if request.param == "absent":
        monkeypatch.delitem(sys.modules, "nni", raising=False)
        return None
    real = types.ModuleType("nni")
    monkeypatch.setitem(sys.modules, "nni", real)
    return real


def assert_restored(before):
    assert sys.modules.get("nni") is before


@pytest.mark.parametrize("ending", ["result", "error", "exit", "stopped"])
def test_the_entry_is_restored_however_the_trial_ends(before, ending):
    def trial(params):
        import nni
        assert nni is nni_api
        if ending == "error":
            raise ValueError("boom")
        if ending == "exit":
            sys.exit(2)
        if ending == "stopped":
            nni.report_intermediate_result(1.0)
        return 1.0

    stop_now = lambda number, step, value: True  # noqa: E731
    outcome = run_with_reports(trial, 1, {"x": 1}, stop_now, in_worker=False)
    expected = {"result": OutcomeKind.RESULT, "error": OutcomeKind.ERROR, "exit": OutcomeKind.ERROR,
                "stopped": OutcomeKind.STOPPED}[ending]
    assert outcome.kind == expected
    assert_restored(before)


def test_a_keyboard_interrupt_of_an_inline_trial_propagates_after_the_restore(before):
    def trial(params):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_with_reports(trial, 1, {}, no_stop, in_worker=False)
    assert_restored(before)


def test_a_trial_that_replaces_the_entry_does_not_leave_it(before):
    def trial(params):
        sys.modules["nni"] = types.ModuleType("something else")
        return 1.0

    run_with_reports(trial, 1, {}, no_stop, in_worker=True)
    assert_restored(before)


def test_concurrent_trials_in_threads_each_see_their_own_trial(before):
    """A Dask worker runs several trials at once in threads: the shim stays until the last ends."""
    both_inside = threading.Barrier(2)
    first_ended = threading.Event()
    seen = {}

    def trial(params):
        import nni
        both_inside.wait(timeout=10)
        if params["who"] == "second":
            first_ended.wait(timeout=10)
            seen["after_first_ended"] = sys.modules.get("nni")
        nni.report_final_result(float(nni.get_sequence_id()))
        return {"default": 0.0, "id": nni.get_trial_id(), "experiment": nni.get_experiment_id()}

    outcomes = {}

    def run(number, who):
        outcomes[who] = run_with_reports(trial, number, {"who": who}, no_stop, in_worker=True,
                                         experiment_id="exp")
        if who == "first":
            first_ended.set()

    threads = [threading.Thread(target=run, args=(7, "first")), threading.Thread(target=run, args=(8, "second"))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=20)
    assert outcomes["first"].result == 7.0 and outcomes["second"].result == 8.0  # the final result wins
    assert seen["after_first_ended"] is nni_api
    assert_restored(before)


def test_report_final_result_once_and_by_the_rule_of_results():
    def twice(params):
        nni_api.report_final_result({"default": 1.0, "acc": 0.5})
        nni_api.report_final_result(2.0)

    outcome = run_with_reports(twice, 4, {}, no_stop, in_worker=True)
    assert outcome.kind == OutcomeKind.ERROR
    assert "AutotuneError: trial 4: nni.report_final_result was called a second time" in outcome.error

    def bad(params):
        nni_api.report_final_result("0.5")

    outcome = run_with_reports(bad, 5, {}, no_stop, in_worker=True)
    assert outcome.kind == OutcomeKind.ERROR and "InvalidResultError" in outcome.error

    def extras(params):
        nni_api.report_final_result({"default": 1.0, "acc": 0.5})
        return "ignored"

    assert run_with_reports(extras, 6, {}, no_stop, in_worker=True).result == {"default": 1.0, "acc": 0.5}


def test_ids_and_parameters_in_a_trial():
    params = {"lr": 0.1, "nested": {"_name": "a", "k": 1}}

    def trial(p):
        got = nni_api.get_next_parameter()
        got["nested"]["k"] = 99  # a copy: changing it changes nothing else
        return {"default": 0.0, "again": nni_api.get_next_parameters(), "ids": (
            nni_api.get_experiment_id(), nni_api.get_trial_id(), nni_api.get_sequence_id())}

    result = run_with_reports(trial, 12, params, no_stop, in_worker=True, experiment_id="my-study").result
    assert result["again"] == params and result["ids"] == ("my-study", "12", 12)


def test_standalone_mode(capsys):
    with pytest.warns(RuntimeWarning, match="standalone"):
        assert nni_api.get_next_parameter() == {}
    nni_api.report_final_result(0.25)
    assert capsys.readouterr().out == "Final result: 0.25\n"
    assert (nni_api.get_experiment_id(), nni_api.get_trial_id(), nni_api.get_sequence_id()) == \
        ("STANDALONE", "STANDALONE", 0)
