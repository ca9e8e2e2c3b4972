"""The study loop with the in-process executor: results, failures, early stops, limits, events."""

from __future__ import annotations

import time

import pytest

import autotune_nb as at
from autotune_nb import TrialState

SPACE = {"x": at.uniform(-5, 5)}


def quadratic(params):
    return (params["x"] - 1) ** 2


def make_study(**kwargs):
    options = dict(tuner="Random", direction="minimize", seed=0)
    options.update(kwargs)
    return at.Study(SPACE, **options)


def test_runs_max_trials_and_finds_the_best():
    study = make_study().run(quadratic, max_trials=25, executor="inline")
    assert [t.number for t in study.trials] == list(range(25))
    assert all(t.state == TrialState.SUCCEEDED for t in study.trials)
    assert study.best.value == min(t.value for t in study.trials)
    assert study.best_params == dict(study.best.params)
    assert study.best.value < 1.0


def test_maximize_picks_the_largest_value():
    study = make_study(direction="maximize").run(quadratic, max_trials=10, executor="inline")
    assert study.best_value == max(t.value for t in study.trials)


def test_dict_result_keeps_default_as_value_and_the_rest_as_metrics():
    study = make_study().run(lambda p: {"default": p["x"], "train_loss": 0.5}, max_trials=3, executor="inline")
    trial = study.trials[0]
    assert trial.value == trial.params["x"]
    assert dict(trial.metrics) == {"train_loss": 0.5}


def test_a_trial_that_raises_is_failed_with_its_traceback_and_the_study_goes_on():
    def sometimes_broken(params):
        if params["x"] > 0:
            raise ValueError(f"x too large: {params['x']}")
        return params["x"]

    study = make_study().run(sometimes_broken, max_trials=20, executor="inline")
    failed = [t for t in study.trials if t.state == TrialState.FAILED]
    succeeded = [t for t in study.trials if t.state == TrialState.SUCCEEDED]
    assert failed and succeeded and len(study.trials) == 20
    assert "ValueError: x too large" in failed[0].error
    assert "sometimes_broken" in failed[0].error  # the traceback, not just the message
    assert failed[0].reason.startswith("ValueError")


def test_a_result_that_is_not_a_number_fails_the_trial_with_the_rule():
    study = make_study().run(lambda p: "high", max_trials=2, max_failures=10, executor="inline")
    assert all(t.state == TrialState.FAILED for t in study.trials)
    assert "the string 'high'" in study.trials[0].reason


def test_the_study_stops_when_its_first_trials_all_fail():
    calls = []

    def broken(params):
        calls.append(1)
        raise RuntimeError("bug in the training code")

    study = make_study().run(broken, max_trials=50, executor="inline")
    assert len(calls) == 5 == len(study.trials)
    assert all(t.state == TrialState.FAILED for t in study.trials)


def test_intermediate_results_are_recorded_and_medianstop_stops_poor_trials():
    def curve(params):
        # good trials climb to 1.0, poor ones stay at 0.1; the median rule must stop the poor ones.
        level = 1.0 if params["x"] > 0 else 0.1
        for step in range(1, 11):
            at.report(level * step / 10)
        return level

    study = at.Study(SPACE, tuner="Random", direction="maximize", seed=1,
                     assessor="Medianstop", assessor_args={"start_step": 2})
    study.run(curve, max_trials=30, executor="inline")
    stopped = [t for t in study.trials if t.state == TrialState.EARLY_STOPPED]
    assert stopped, "no trial was stopped"
    assert all(t.params["x"] <= 0 for t in stopped)
    assert all(len(t.intermediates) < 10 for t in stopped)
    full = [t for t in study.trials if t.state == TrialState.SUCCEEDED]
    assert all([s for s, _ in t.intermediates] == list(range(1, 11)) for t in full)


def test_report_outside_a_study_does_nothing():
    assert at.report(0.5) is None
    assert at.report({"default": 0.5}, step=3) is None


def test_report_of_a_non_number_fails_the_trial_with_the_value_named():
    def bad_report(params):
        at.report("0.5?")
        return 1.0

    study = make_study().run(bad_report, max_trials=1, executor="inline")
    assert study.trials[0].state == TrialState.FAILED
    assert "'0.5?'" in study.trials[0].reason


def test_events_are_published_for_every_state_change():
    events = []
    study = make_study()
    study.subscribe(lambda e: events.append((e.kind, e.trial.number, e.trial.state)))

    def fn(params):
        at.report(1.0)
        return 0.0

    study.run(fn, max_trials=2, executor="inline")
    assert events == [
        ("started", 0, TrialState.RUNNING), ("reported", 0, TrialState.RUNNING), ("finished", 0, TrialState.SUCCEEDED),
        ("started", 1, TrialState.RUNNING), ("reported", 1, TrialState.RUNNING), ("finished", 1, TrialState.SUCCEEDED),
    ]


def test_stop_from_a_subscriber_ends_the_study_and_keeps_finished_trials():
    study = make_study()
    study.subscribe(lambda e: study.stop() if e.kind == "finished" and e.trial.number == 2 else None)
    study.run(quadratic, max_trials=50, executor="inline")
    assert len(study.trials) == 3
    assert all(t.state == TrialState.SUCCEEDED for t in study.trials)


def test_max_duration_ends_the_study():
    def slow(params):
        time.sleep(0.05)
        return 0.0

    started = time.monotonic()
    study = make_study().run(slow, max_trials=1000, max_duration=0.3, executor="inline")
    assert time.monotonic() - started < 2.0
    assert 2 <= len(study.trials) < 1000


def test_an_exhausted_grid_ends_the_study_early():
    study = at.Study({"k": at.randint(0, 4)}, tuner="GridSearch", direction="maximize")
    study.run(lambda p: p["k"], max_trials=100, executor="inline")
    assert sorted(t.params["k"] for t in study.trials) == [0, 1, 2, 3]
    assert study.best_value == 3


def test_a_resumed_grid_runs_only_the_configurations_that_did_not_run(tmp_path):
    path = tmp_path / "grid.db"
    space = {"k": at.randint(0, 6)}
    at.Study(space, tuner="GridSearch", name="grid", storage=path).run(lambda p: p["k"], max_trials=4,
                                                                     executor="inline")
    study = at.Study.load("grid", storage=path).resume(lambda p: p["k"], max_trials=100, executor="inline")
    assert [t.params["k"] for t in study.trials] == [0, 1, 2, 3, 4, 5]
    assert study.stop_reason == "the tuner GridSearch has no configuration left to suggest"


@pytest.mark.parametrize("kwargs, message", [
    (dict(direction="up"), "direction must be one of 'maximize', 'minimize', got 'up'"),
    (dict(tuner="Bayes"), "unknown tuner 'Bayes'; valid names are"),
    (dict(tuner_args={"gama": 0.2}), "unknown classArg 'gama'"),
    (dict(assessor="Never"), "Never"),
    (dict(seed="abc"), "seed must be an integer >= 0 (or None), got 'abc'"),
    (dict(name=5), "name must be a non-empty string, got 5"),
])
def test_bad_study_settings_are_named(kwargs, message):
    with pytest.raises(at.ConfigurationError, match=message.replace("(", r"\(").replace(")", r"\)")):
        make_study(**kwargs)


@pytest.mark.parametrize("kwargs, message", [
    (dict(max_trials=0), "max_trials must be an integer >= 1, got 0"),
    (dict(max_trials=2.5), "max_trials must be an integer >= 1, got 2.5"),
    (dict(max_duration=-1), "max_duration must be a finite number > 0, got -1"),
])
def test_bad_run_limits_are_named(kwargs, message):
    with pytest.raises(at.ConfigurationError, match=message):
        make_study().run(quadratic, executor="inline", **kwargs)


def test_a_finished_study_renders_without_a_kernel():
    study = make_study().run(quadratic, max_trials=4, executor="inline")
    bundle = study._repr_mimebundle_()
    document = bundle["application/vnd.autotune.study+json"]
    assert document["format"] == "autotune-study" and len(document["trials"]) == 4
    assert document["study"]["state"] == "finished"
    assert "<table" in bundle["text/html"] and "<svg" in bundle["text/html"]


def test_a_trial_function_that_is_not_callable_is_refused_up_front():
    with pytest.raises(at.ConfigurationError, match="run needs the trial function fn.params. -> result, got 'train'"):
        make_study().run("train", max_trials=2, executor="inline")


def test_report_with_a_step_that_is_not_an_integer_fails_the_trial_naming_it():
    def bad_step(params):
        at.report(0.5, step="two")
        return 1.0

    study = make_study().run(bad_step, max_trials=1, executor="inline")
    assert study.trials[0].state == TrialState.FAILED
    assert "step='two': a step is an integer" in study.trials[0].reason


def test_sys_exit_in_an_inline_trial_fails_that_trial_only():
    import sys

    study = make_study().run(lambda p: sys.exit(3), max_trials=2, max_failures=10, executor="inline")
    assert [t.state for t in study.trials] == [TrialState.FAILED, TrialState.FAILED]
    assert study.trials[0].reason == "SystemExit: 3"
