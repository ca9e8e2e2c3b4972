"""BOHB: its budgets from min_budget/max_budget/eta, its model (TPE's Parzen estimators) taking over
from random draws, and its classArgs."""

from __future__ import annotations

import numpy as np
import pytest

from autotune_nb.errors import ConfigurationError
from autotune_nb.testing.tuner_contract import finished
from autotune_nb.trial import TrialState
from autotune_nb.tuners import create_tuner

SPACE = {"x": {"_type": "uniform", "_value": [0, 1]}, "y": {"_type": "uniform", "_value": [0, 1]}}


def objective(config, budget):
    """Minimum at (0.2, 0.7); a small budget sees it blurred, not moved."""
    return (config["x"] - 0.2) ** 2 + (config["y"] - 0.7) ** 2 + 0.05 / budget


def drive(tuner, count):
    trials = []
    for number in range(count):
        [config] = tuner.suggest(1)
        directives = tuner.directives(config)
        trial = finished(number, config, objective(config, directives.budget)).replace(directives=directives)
        tuner.observe(trial)
        trials.append(trial)
    return trials


def test_budgets_run_from_max_budget_over_eta_powers_to_max_budget():
    tuner = create_tuner("BOHB", SPACE, optimize_mode="minimize", seed=0, min_budget=1, max_budget=27, eta=3)
    trials = drive(tuner, 40)
    first_bracket = [t.directives for t in trials if t.directives.bracket == 0]
    assert [(d.rung, d.budget) for d in first_bracket][:27] == [(0, 1.0)] * 27
    assert [(d.rung, d.budget) for d in first_bracket][27:] == [(1, 3.0)] * 9 + [(2, 9.0)] * 3 + [(3, 27.0)]


def test_the_model_concentrates_rung_zero_near_the_optimum():
    """Random rung-0 draws are uniform; once a budget has enough points, most come from the model.
    (Later, when the largest budget holds only promoted, near-optimal points, its good and bad sets
    look alike and the draws spread again: the paper's model, seen on this easy function.)"""
    def distances(random_fraction, seed):
        tuner = create_tuner("BOHB", SPACE, optimize_mode="minimize", seed=seed, min_budget=1, max_budget=9,
                             random_fraction=random_fraction, min_points_in_model=3)
        trials = drive(tuner, 60)
        late = [t for t in trials[13:] if t.directives.rung == 0]  # after bracket 0 (13 trials)
        return np.mean([np.hypot(t.params["x"] - 0.2, t.params["y"] - 0.7) for t in late])

    for seed in range(3):
        assert distances(1 / 3, seed) < 0.7 * distances(1.0, seed)


def test_failed_trials_give_the_model_nothing():
    tuner = create_tuner("BOHB", SPACE, optimize_mode="minimize", seed=0, min_points_in_model=1)
    for number, config in enumerate(tuner.suggest(9)):
        tuner.observe(finished(number, config, None, TrialState.FAILED).replace(directives=tuner.directives(config)))
    assert tuner._model() is None


@pytest.mark.parametrize(("args", "fragments"), [
    ({"min_budget": 0}, ["BOHB", "min_budget", "> 0", "0"]),
    ({"min_budget": 4, "max_budget": 2}, ["max_budget must be >= min_budget", "2", "4"]),
    ({"eta": 1}, ["eta", ">= 2"]),
    ({"min_points_in_model": 0}, ["min_points_in_model", ">= 1"]),
    ({"top_n_percent": 100}, ["top_n_percent", "< 100"]),
    ({"num_samples": 0}, ["num_samples", ">= 1"]),
    ({"random_fraction": 1.5}, ["random_fraction", "<= 1", "1.5"]),
    ({"bandwidth_factor": -1}, ["bandwidth_factor", "> 0"]),
    ({"min_bandwidth": "0.1"}, ["min_bandwidth", "'0.1'"]),
    ({"R": 9}, ["BOHB", "'R'"]),
])
def test_bad_classargs_are_refused_by_name(args, fragments):
    with pytest.raises(ConfigurationError) as caught:
        create_tuner("BOHB", SPACE, **args)
    for fragment in fragments:
        assert fragment in str(caught.value)
