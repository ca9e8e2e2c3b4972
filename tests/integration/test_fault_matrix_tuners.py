"""Faults of the tuners, one test per case.

* Random, Anneal and TPE_legacy refreshed hyperopt's Trials on every observation, so importing n
  trials cost O(n²): Trials is now refreshed at most once per suggestion, and never while importing.
* GridSearch listed its whole grid at creation (quniform(0, 1e6, 1): 21 s); each point is now
  computed from its index, and a grid past ``MAX_GRID_POINTS`` is refused naming its sizes.
* ``optimize_mode`` in classArgs (every NNI config has it) was a TypeError; it is now taken when it
  agrees with the study's direction and refused, with the fix, when it does not; ``seed`` and
  ``space`` in classArgs are refused naming where they go.
"""

from __future__ import annotations

import numpy as np
import pytest

import autotune_nb as at
from autotune_nb.assessors import create_assessor
from autotune_nb.errors import ConfigurationError, UnsupportedSpaceError
from autotune_nb.space import SearchSpace
from autotune_nb.testing.tuner_contract import MIXED_SPACE, finished, mixed_objective
from autotune_nb.trial import Trial, TrialState
from autotune_nb.tuners import create_tuner

pytestmark = pytest.mark.timeout(120)


# --- hyperopt's Trials is refreshed per suggestion, not per observation -----------------------------
@pytest.mark.parametrize("name, class_args, per_suggestion", [
    ("Random", {}, 0),  # rand.suggest never reads Trials
    ("Anneal", {}, 1),
    ("TPE_legacy", {}, 1),
    ("TPE_legacy", {"parallel_optimize": True}, 1),
])
def test_hyperopt_trials_are_refreshed_once_per_suggestion_not_per_observation(name, class_args, per_suggestion):
    tuner = create_tuner(name, MIXED_SPACE, optimize_mode="minimize", seed=0, **class_args)
    refreshes = []
    real_refresh = tuner._trials.refresh
    tuner._trials.refresh = lambda: (refreshes.append(1), real_refresh())
    rng = np.random.default_rng(0)
    for number in range(200):  # an import: trials this tuner never suggested
        params = SearchSpace(MIXED_SPACE).sample(rng)
        tuner.observe(finished(number, params, mixed_objective(params)))
    assert len(refreshes) == 0
    for number in range(200, 210):  # the live loop, one trial left running each time
        [config] = tuner.suggest(1)
        tuner.observe(finished(number, config, mixed_objective(config)))
    assert len(refreshes) == 10 * per_suggestion


# --- GridSearch computes its points from their index -------------------------------------------------
def test_a_grid_past_max_grid_points_is_refused_naming_each_parameter_size():
    space = {"x": {"_type": "randint", "_value": [0, 10**6]}, "y": {"_type": "quniform", "_value": [0, 1e6, 1]}}
    with pytest.raises(UnsupportedSpaceError) as caught:
        create_tuner("GridSearch", space)
    assert str(caught.value) == (
        "GridSearch: the grid has 1,000,001,000,000 points ('x': 1,000,000 × 'y': 1,000,001 values), more than "
        "MAX_GRID_POINTS = 100,000,000: make a q larger, a range narrower or a choice shorter, or search this "
        "space with Random or TPE"
    )


def test_a_ten_million_point_grid_is_walked_in_mixed_radix_order_and_resumed_without_listing_it():
    space = {
        "a": {"_type": "choice", "_value": ["p", "q"]},
        "x": {"_type": "quniform", "_value": [0, 1e6, 1]},  # 1,000,001 values: 21 s to list before
        "k": {"_type": "randint", "_value": [-2, 3]},
    }
    tuner = create_tuner("GridSearch", space)
    assert tuner.grid_size == 2 * 1_000_001 * 5
    assert tuner.suggest(6) == [{"a": "p", "x": 0, "k": k} for k in range(-2, 3)] + [{"a": "p", "x": 1, "k": -2}]
    # point i is the digits of i in the radices (2, 1000001, 5), the last parameter fastest
    assert tuner.grid.point(1 * 1_000_001 * 5 + 123_456 * 5 + 3) == {"a": "q", "x": 123_456, "k": 1}
    assert tuner.grid.point(tuner.grid_size - 1) == {"a": "q", "x": 1_000_000, "k": 2}

    resumed = create_tuner("GridSearch", space)
    first = [tuner.grid.point(i) for i in range(4)]
    for number, (config, state) in enumerate(zip(first, [TrialState.SUCCEEDED, TrialState.FAILED,
                                                         TrialState.CANCELED, TrialState.SUCCEEDED])):
        resumed.observe(Trial(number, config, state, 1.0 if state == TrialState.SUCCEEDED else None))
    # the interrupted one again first, then the grid from where it was
    assert resumed.suggest(3) == [first[2], tuner.grid.point(4), tuner.grid.point(5)]


# --- optimize_mode, seed and space in classArgs ------------------------------------------------------
@pytest.mark.parametrize("name", ["TPE", "Random", "Evolution", "GridSearch"])
def test_class_args_may_repeat_the_study_direction(name):
    space = {"x": {"_type": "quniform", "_value": [0, 10, 1]}}
    tuner = create_tuner(name, space, optimize_mode="minimize", seed=1, class_args={"optimize_mode": "minimize"})
    assert tuner.optimize_mode == "minimize"
    assert tuner.suggest(3) == create_tuner(name, space, optimize_mode="minimize", seed=1).suggest(3)


def test_class_args_that_contradict_the_study_direction_are_refused_with_the_fix():
    with pytest.raises(ConfigurationError) as caught:
        create_tuner("TPE", MIXED_SPACE, optimize_mode="maximize", class_args={"optimize_mode": "minimize"})
    assert str(caught.value) == (
        "tuner TPE: classArgs optimize_mode='minimize' conflicts with the study's direction 'maximize': "
        "drop it or use direction='minimize' (--minimize in %%autotune)"
    )


@pytest.mark.parametrize("key, where", [
    ("seed", r"seed= of the Study \(--seed in %%autotune\)"),
    ("space", r"the Study's search space \(its first argument\)"),
])
def test_seed_and_space_in_class_args_are_refused_naming_where_they_go(key, where):
    with pytest.raises(ConfigurationError, match=rf"^tuner Evolution: '{key}' is not a classArg: it goes in {where}$"):
        create_tuner("Evolution", MIXED_SPACE, class_args={"population_size": 4, key: 0})


def test_assessor_class_args_may_repeat_the_direction_but_not_contradict_it():
    assessor = create_assessor("Medianstop", optimize_mode="minimize",
                               class_args={"optimize_mode": "minimize", "start_step": 3})
    assert (assessor.optimize_mode, assessor.start_step) == ("minimize", 3)
    with pytest.raises(ConfigurationError, match=r"^Medianstop: classArgs optimize_mode='maximize' conflicts"):
        create_assessor("Medianstop", optimize_mode="minimize", class_args={"optimize_mode": "maximize"})


def test_a_study_takes_an_nni_config_s_class_args_as_they_are():
    study = at.Study(MIXED_SPACE, tuner="TPE", tuner_args={"optimize_mode": "minimize"},
                     assessor="Medianstop", assessor_args={"optimize_mode": "minimize"},
                     direction="minimize", seed=0, storage=None)
    assert study.tuner.optimize_mode == study.assessor.optimize_mode == "minimize"
