"""ASHA (assessors/asha.py): rungs, the asynchronous top-1/eta rule, its classArgs; and a real study
that stops trials with it."""

from __future__ import annotations

import numpy as np
import pytest

import autotune_nb as at
from autotune_nb.assessors import create_assessor
from autotune_nb.assessors.base import Decision
from autotune_nb.errors import ConfigurationError
from autotune_nb.testing.assessor_contract import recorded_trial
from autotune_nb.trial import TrialState

CONTINUE, STOP = Decision.CONTINUE, Decision.STOP


def test_rungs_are_geometric_from_min_resource_and_the_early_stopping_rate():
    asha = create_assessor("ASHA", min_resource=2, reduction_factor=3, min_early_stopping_rate=1)
    assert [r for r in range(1, 60) if asha.is_rung(r)] == [6, 18, 54]


def test_nothing_is_decided_between_rungs():
    asha = create_assessor("ASHA", min_resource=1, reduction_factor=3)
    history = [recorded_trial(n, [0.9, 0.9, 0.9, 0.9]) for n in range(6)]
    terrible = recorded_trial(99, [0.1, 0.1], TrialState.RUNNING)  # 2 reports: between rungs 1 and 3
    assert asha.assess(terrible, history) is CONTINUE
    assert asha.assess(recorded_trial(99, [0.1, 0.1, 0.1], TrialState.RUNNING), history) is STOP


@pytest.mark.parametrize(("others", "mine", "decision"), [
    ([], 0.1, CONTINUE),                      # alone on the rung: the best of one
    ([0.5], 0.4, STOP),                       # 2 values, keep max(1, 2 // 3) = 1: only the best
    ([0.5, 0.6], 0.7, CONTINUE),
    ([0.1, 0.2, 0.3, 0.4, 0.5], 0.45, CONTINUE),  # 6 values: keep the top 2, and 0.45 is second
    ([0.1, 0.2, 0.3, 0.4, 0.5], 0.35, STOP),
])
def test_a_trial_goes_on_only_within_the_top_third_of_its_rung(others, mine, decision):
    asha = create_assessor("ASHA", min_resource=1, reduction_factor=3)
    history = [recorded_trial(n, [v]) for n, v in enumerate(others)]
    assert asha.assess(recorded_trial(99, [mine], TrialState.RUNNING), history) is decision
    flipped = create_assessor("ASHA", optimize_mode="minimize", min_resource=1, reduction_factor=3)
    negated = [recorded_trial(n, [-v]) for n, v in enumerate(others)]
    assert flipped.assess(recorded_trial(99, [-mine], TrialState.RUNNING), negated) is decision


def test_running_and_stopped_trials_count_at_their_rungs_asynchronously():
    asha = create_assessor("ASHA", min_resource=1, reduction_factor=2)
    history = [recorded_trial(0, [0.8], TrialState.RUNNING), recorded_trial(1, [0.9], TrialState.EARLY_STOPPED)]
    assert asha.assess(recorded_trial(99, [0.85], TrialState.RUNNING), history) is STOP  # keep 1 of 3
    assert asha.assess(recorded_trial(99, [0.95], TrialState.RUNNING), history) is CONTINUE


def test_a_tie_with_the_last_kept_value_goes_on_and_others_are_read_at_the_rung_not_at_their_end():
    asha = create_assessor("ASHA", min_resource=1, reduction_factor=3)
    # 3 values at rung 1 keep 1: the tie with the best goes on (Optuna's SuccessiveHalvingPruner does too).
    assert asha.assess(recorded_trial(99, [0.5], TrialState.RUNNING),
                       [recorded_trial(0, [0.5]), recorded_trial(1, [0.2])]) is CONTINUE
    # Trial 0 ended at 0.9 but had 0.3 at rung 3: there it is worse than 0.4.
    went_on = recorded_trial(0, [0.1, 0.2, 0.3, 0.9])
    assert asha.assess(recorded_trial(99, [0.1, 0.2, 0.4], TrialState.RUNNING),
                       [went_on, recorded_trial(1, [0.1, 0.2, 0.35])]) is CONTINUE


def test_it_decides_as_optunas_successive_halving_pruner_on_the_same_curves_in_sequence():
    """Li et al.'s rule, replayed one trial after another: every trial stops at the same step."""
    optuna = pytest.importorskip("optuna")
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    rng = np.random.default_rng(7)
    curves = [np.cumsum(rng.normal(0.05, 0.05, size=12)) + rng.normal(0, 0.2) for _ in range(40)]
    for eta, min_resource, rate in ((3, 1, 0), (2, 2, 1), (4, 1, 1)):
        asha = create_assessor("ASHA", min_resource=min_resource, reduction_factor=eta, min_early_stopping_rate=rate)
        pruner = optuna.pruners.SuccessiveHalvingPruner(min_resource=min_resource, reduction_factor=eta,
                                                         min_early_stopping_rate=rate)
        study = optuna.create_study(direction="maximize", pruner=pruner)
        ours, theirs, history = [], [], []
        for number, curve in enumerate(curves):
            trial = study.ask()
            theirs.append(len(curve))
            for step, value in enumerate(curve, start=1):
                trial.report(float(value), step)
                if trial.should_prune():
                    theirs[-1] = step
                    study.tell(trial, state=optuna.trial.TrialState.PRUNED)
                    break
            else:
                study.tell(trial, float(curve[-1]))
            for step in range(1, len(curve) + 1):
                running = recorded_trial(number, curve[:step], TrialState.RUNNING)
                if asha.assess(running, history) is STOP:
                    history.append(recorded_trial(number, curve[:step], TrialState.EARLY_STOPPED))
                    break
            else:
                history.append(recorded_trial(number, curve))
            ours.append(len(history[-1].intermediates))
        assert ours == theirs, (eta, min_resource, rate)
        assert min(ours) < len(curves[0])  # some were stopped


@pytest.mark.parametrize(("class_args", "fragments"), [
    ({"min_resource": 0}, ["ASHA", "min_resource", ">= 1", "0"]),
    ({"min_resource": 1.5}, ["min_resource", "1.5"]),
    ({"reduction_factor": 1}, ["ASHA", "reduction_factor", ">= 2", "1"]),
    ({"reduction_factor": True}, ["reduction_factor", "True"]),
    ({"min_early_stopping_rate": -1}, ["min_early_stopping_rate", ">= 0", "-1"]),
    ({"grace_period": 2}, ["ASHA", "'grace_period'", "min_resource"]),
])
def test_bad_classargs_are_refused_by_name(class_args, fragments):
    with pytest.raises(ConfigurationError) as caught:
        create_assessor("ASHA", **class_args)
    for fragment in fragments:
        assert fragment in str(caught.value)


def _curve(params):
    """Higher quality, higher plateau; nine epochs."""
    for epoch in range(1, 10):
        at.report(params["q"] * (1 - 0.5 ** epoch))
    return params["q"]


def test_a_study_with_asha_stops_the_poor_trials_at_rungs():
    study = at.Study({"q": at.uniform(0, 1)}, tuner="Random", assessor="ASHA",
                     assessor_args={"min_resource": 1, "reduction_factor": 3}, seed=3, storage=None)
    study.run(_curve, max_trials=12, executor="inline")
    stopped = [t for t in study.trials if t.state is TrialState.EARLY_STOPPED]
    assert stopped, "ASHA stopped no trial"
    assert {len(t.intermediates) for t in stopped} <= {1, 3}  # the rungs below nine reports
    assert study.best.params["q"] == max(t.params["q"] for t in study.trials)
