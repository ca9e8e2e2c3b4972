"""The hyperopt tuners (TPE_legacy, Random, Anneal), Evolution, GridSearch and Batch, and the tuner
registry."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from autotune_nb.errors import ConfigurationError, UnsupportedSpaceError
from autotune_nb.space import SearchSpace
from autotune_nb.testing.tuner_contract import (
    BATCH_CONFIGS,
    BATCH_SPACE,
    GRID_SPACE,
    MIXED_SPACE,
    TunerContract,
    finished,
    mixed_objective,
    run_sequential,
)
from autotune_nb.trial import LOST_REASON, Trial, TrialState
from autotune_nb.tuners import create_tuner
from autotune_nb.tuners.base import config_key

NESTED = {
    "_type": "choice",
    "_value": [
        {"_name": "conv", "kernel": {"_type": "randint", "_value": [1, 4]}},
        {
            "_name": "dense",
            "width": {"_type": "uniform", "_value": [0, 1]},
            "norm": {"_type": "choice", "_value": [{"_name": "batch", "eps": {"_type": "quniform", "_value": [0, 1, 0.1]}}, "none"]},
        },
        "identity",
    ],
}
EVERY_TYPE = {
    "c": {"_type": "choice", "_value": ["a", 2, 3.5]},
    "r": {"_type": "randint", "_value": [-3, 4]},
    "u": {"_type": "uniform", "_value": [-1, 1]},
    "qu": {"_type": "quniform", "_value": [1, 10, 4]},
    "lu": {"_type": "loguniform", "_value": [1e-3, 1]},
    "qlu": {"_type": "qloguniform", "_value": [1, 100, 5]},
    "n": {"_type": "normal", "_value": [0, 1]},
    "qn": {"_type": "qnormal", "_value": [0, 5, 2]},
    "ln": {"_type": "lognormal", "_value": [0, 1]},
    "qln": {"_type": "qlognormal", "_value": [1, 1, 0.5]},
    "layer": NESTED,
}


def every_type_objective(params: dict) -> float:
    return (params["u"] - 0.5) ** 2 + abs(params["r"]) + (params["c"] != 2)


# --- the contract, with a constant liar (tests/unit/test_tuner_contracts.py: without) --------------
class TestTPELegacyLiarMinContract(TunerContract):
    tuner_name = "TPE_legacy"
    class_args = {"parallel_optimize": True, "constant_liar_type": "min"}


class TestTPELegacyLiarMaxContract(TestTPELegacyLiarMinContract):
    class_args = {"parallel_optimize": True, "constant_liar_type": "max"}


class TestTPELegacyLiarMeanContract(TestTPELegacyLiarMinContract):
    class_args = {"parallel_optimize": True, "constant_liar_type": "mean"}


# --- conversions of every _type ---------------------------------------------------------------------
def _values(configs: list[dict], name: str) -> list:
    return [c[name] for c in configs]


def test_random_samples_every_type_with_nni_semantics():
    tuner = create_tuner("Random", EVERY_TYPE, seed=0)
    configs = tuner.suggest(300)
    space = SearchSpace(EVERY_TYPE)
    assert len(configs) == 300 and all(space.contains(c) for c in configs)
    assert set(_values(configs, "c")) == {"a", 2, 3.5}
    assert set(_values(configs, "r")) == set(range(-3, 4))  # upper bound exclusive, lower included
    assert all(-1 <= u <= 1 for u in _values(configs, "u"))
    # round(x/4)*4 for x in [1, 10]: 0 is clipped to 1, and 12 is out of reach (round(2.5) == 2).
    assert set(_values(configs, "qu")) == {1, 4, 8}
    assert all(type(v) is int for v in _values(configs, "qu") + _values(configs, "qlu"))
    assert all(v == 1 or v % 5 == 0 for v in _values(configs, "qlu")) and max(_values(configs, "qlu")) <= 100
    assert all(1e-3 <= v <= 1 for v in _values(configs, "lu"))
    assert all(v % 2 == 0 for v in _values(configs, "qn"))
    assert all(v > 0 for v in _values(configs, "ln"))
    assert all(float(v / 0.5).is_integer() for v in _values(configs, "qln"))
    assert abs(np.mean(_values(configs, "n"))) < 0.2 and 0.8 < np.std(_values(configs, "n")) < 1.2


def test_nested_choice_produces_only_the_chosen_branch_keys():
    configs = create_tuner("Random", EVERY_TYPE, seed=1).suggest(300)
    branch_keys = {"conv": {"_name", "kernel"}, "dense": {"_name", "width", "norm"}}
    seen = set()
    for layer in _values(configs, "layer"):
        name = layer if isinstance(layer, str) else layer["_name"]
        seen.add(name)
        if name == "identity":
            continue
        assert set(layer) == branch_keys[name], layer
        if name == "dense" and layer["norm"] != "none":
            assert set(layer["norm"]) == {"_name", "eps"}
    assert seen == {"conv", "dense", "identity"}


@pytest.mark.parametrize("name", ["TPE_legacy", "Anneal", "Evolution"])
def test_model_based_suggestions_of_every_type_are_legal(name):
    class_args = {"population_size": 6} if name == "Evolution" else {}
    tuner = create_tuner(name, EVERY_TYPE, optimize_mode="minimize", seed=2, **class_args)
    space = SearchSpace(EVERY_TYPE)
    run_sequential(tuner, every_type_objective, 40)  # TPE leaves its 20 random startup trials
    assert len(tuner.history) == 40
    assert all(space.contains(t.params) for t in tuner.history)


# --- they learn -------------------------------------------------------------------------------------
def _late_median(name: str, seed: int, **class_args) -> float:
    tuner = create_tuner(name, MIXED_SPACE, optimize_mode="minimize", seed=seed, **class_args)
    return float(np.median(run_sequential(tuner, mixed_objective, 40)[20:]))


@pytest.mark.parametrize("name, class_args", [("TPE_legacy", {}), ("Evolution", {"population_size": 8})])
def test_beats_random_on_mixed_objective(name, class_args):
    # The best of 40 varies by about as much between seeds as between tuners; the median of trials
    # 21-40 shows whether a tuner has learned (measured: Random 9.8, TPE 4.7, Evolution 2.7 over 30 seeds).
    seeds = range(5)
    random = np.mean([_late_median("Random", s) for s in seeds])
    tuner = np.mean([_late_median(name, s, **class_args) for s in seeds])
    assert tuner < 0.7 * random, (tuner, random)


def test_constant_liar_spreads_a_parallel_batch():
    space = {"x": {"_type": "uniform", "_value": [0, 10]}}

    def batch_spread(seed: int, **class_args) -> float:
        tuner = create_tuner("TPE_legacy", space, optimize_mode="minimize", seed=seed, **class_args)
        run_sequential(tuner, lambda p: (p["x"] - 5) ** 2, 30)
        return float(np.std([c["x"] for c in tuner.suggest(10)]))

    alone = np.mean([batch_spread(s) for s in range(5)])
    lied = np.mean([batch_spread(s, parallel_optimize=True, constant_liar_type="max") for s in range(5)])
    assert lied > 1.3 * alone, (lied, alone)


def test_hyperopt_tuner_learns_from_trials_it_did_not_suggest():
    space = {"x": {"_type": "uniform", "_value": [0, 10]}}
    tuner = create_tuner("TPE_legacy", space, optimize_mode="minimize", seed=0)
    for number, x in enumerate(np.linspace(0, 10, 30)):
        tuner.observe(finished(number, {"x": float(x)}, (x - 5) ** 2))
    suggested = [c["x"] for c in tuner.suggest(10)]
    assert np.mean(np.abs(np.subtract(suggested, 5))) < 1.5  # uniform draws average 2.5


@pytest.mark.parametrize("name", ["Random", "TPE_legacy", "Anneal", "Evolution"])
def test_never_proposes_a_pending_configuration_of_a_small_space(name):
    small = {"a": {"_type": "choice", "_value": ["p", "q", "r"]}, "b": {"_type": "randint", "_value": [0, 2]}}
    tuner = create_tuner(name, small, seed=0)
    configs = tuner.suggest(6) + tuner.suggest(3)
    assert len({config_key(c) for c in configs}) == len(configs) == 6  # then nothing is left


# --- Evolution --------------------------------------------------------------------------------------
def _differences(a: dict, b: dict) -> int:
    return sum(a[k] != b[k] for k in a)


def test_evolution_children_mutate_one_parameter_of_an_observed_member():
    tuner = create_tuner("Evolution", MIXED_SPACE, optimize_mode="minimize", seed=4, population_size=4)
    run_sequential(tuner, mixed_objective, 30)
    history = [t.params for t in tuner.history]
    for i in range(4, 30):
        assert 1 in {_differences(history[i], earlier) for earlier in history[:i]}, history[i]


@pytest.mark.parametrize("seed", range(5))
def test_evolution_counts_failed_trials_as_worst(seed):
    tuner = create_tuner("Evolution", MIXED_SPACE, seed=seed, population_size=2)
    good, bad = tuner.suggest(2)
    tuner.observe(finished(0, bad, None, TrialState.FAILED))
    tuner.observe(finished(1, good, 0.5))
    [child] = tuner.suggest(1)
    assert _differences(child, good) == 1


@pytest.mark.parametrize("size", [1, 0, 2.5, True])
def test_evolution_needs_a_population_of_two(size):
    with pytest.raises(ConfigurationError, match=rf"population_size .*>= 2.*{size!r}"):
        create_tuner("Evolution", MIXED_SPACE, population_size=size)


# --- GridSearch and Batch ---------------------------------------------------------------------------
def test_grid_search_enumerates_the_exact_grid_then_stops():
    space = {
        "a": {"_type": "choice", "_value": ["x", {"_name": "y", "k": {"_type": "randint", "_value": [0, 2]}}]},
        "q": {"_type": "quniform", "_value": [0, 1, 0.5]},
        "lq": {"_type": "qloguniform", "_value": [1, 10, 5]},
    }
    tuner = create_tuner("GridSearch", space, seed=123)
    configs = tuner.suggest(7) + tuner.suggest(100)
    assert configs == SearchSpace(space).grid()
    assert len(configs) == tuner.grid_size == 3 * 3 * 3
    assert configs[:3] == [{"a": "x", "q": 0, "lq": 1}, {"a": "x", "q": 0, "lq": 5}, {"a": "x", "q": 0, "lq": 10}]
    assert tuner.suggest(1) == []


@pytest.mark.parametrize("space", [
    GRID_SPACE,
    {"layer": {"_type": "choice", "_value": [
        {"_name": "conv", "kernel": {"_type": "randint", "_value": [1, 4]}},
        {"_name": "dense", "norm": {"_type": "choice", "_value": [
            {"_name": "batch", "eps": {"_type": "quniform", "_value": [0, 1, 0.1]}}, "none"]}},
        "identity",
        {"_name": "empty"},
    ]}, "r": {"_type": "randint", "_value": [-2, 1]}},
    # ends that are not multiples of q, none inside, float steps, a log axis
    {"a": {"_type": "quniform", "_value": [0.3, 2.9, 0.5]}, "b": {"_type": "quniform", "_value": [0.1, 0.2, 0.5]}},
    {"a": {"_type": "quniform", "_value": [-1, 1, 0.1]}, "b": {"_type": "qloguniform", "_value": [1.5, 100, 7]}},
    {"a": {"_type": "quniform", "_value": [-7, 13, 3]}, "b": {"_type": "qloguniform", "_value": [0.01, 1, 0.05]}},
])
def test_grid_points_computed_from_their_index_are_the_space_grid(space):
    grid = create_tuner("GridSearch", space).grid
    # config_key tells 1 from 1.0: the values' types must match too
    assert [config_key(grid.point(i)) for i in range(grid.size)] == list(map(config_key, SearchSpace(space).grid()))


@pytest.mark.parametrize("spec", [["uniform", [-5, 5]], ["normal", [0, 1]], ["qnormal", [0, 1, 0.5]]])
def test_grid_search_refuses_a_parameter_without_a_grid(spec):
    kind, value = spec
    space = {"ok": {"_type": "choice", "_value": [1, 2]}, "x": {"_type": kind, "_value": value}}
    with pytest.raises(UnsupportedSpaceError, match=rf"'x' of type {kind}\(.*quniform\(low, high, q\)"):
        create_tuner("GridSearch", space)


def test_batch_suggests_each_configuration_once_in_order():
    tuner = create_tuner("Batch", BATCH_SPACE)
    assert tuner.suggest(15) + tuner.suggest(15) == BATCH_CONFIGS
    assert tuner.suggest(1) == []


def test_batch_runs_only_an_interrupted_configuration_again():
    tuner = create_tuner("Batch", BATCH_SPACE)
    states = [TrialState.FAILED, TrialState.EARLY_STOPPED, TrialState.CANCELED, TrialState.TIMEOUT]
    for number, (config, state) in enumerate(zip(tuner.suggest(4), states)):
        tuner.observe(finished(number, config, None, state, ((1, 3.0),)))
    # the CANCELED one runs again first; the others ended by themselves and do not
    assert tuner.suggest(2) == [BATCH_CONFIGS[2], BATCH_CONFIGS[4]]


@pytest.mark.parametrize("name, space, configs", [
    ("GridSearch", {"k": {"_type": "randint", "_value": [0, 6]}}, [{"k": k} for k in range(6)]),
    ("Batch", None, None),
])
def test_list_tuners_skip_what_ran_and_run_interrupted_trials_again_first(name, space, configs):
    space, configs = (BATCH_SPACE, BATCH_CONFIGS[:6]) if name == "Batch" else (space, configs)
    before = create_tuner(name, space)
    ran = before.suggest(4)
    assert ran == configs[:4]
    ended = [Trial(0, ran[0], TrialState.SUCCEEDED, 1.0), Trial(1, ran[1], TrialState.FAILED, error="boom"),
             Trial(2, ran[2], TrialState.CANCELED), Trial(3, ran[3], TrialState.FAILED, reason=LOST_REASON)]
    resumed = create_tuner(name, space)  # what Study.load + resume give the new tuner: every ended trial
    for trial in ended:
        resumed.observe(trial)
    # the canceled and the lost one first, then the rest of the list; the succeeded and failed ones never
    assert resumed.suggest(3) == [configs[2], configs[3], configs[4]]
    resumed.observe(Trial(4, configs[2], TrialState.CANCELED))  # canceled again while 3 and 4 run
    assert resumed.suggest(5)[:2] == [configs[2], configs[5]]


def test_batch_does_not_run_an_interrupted_configuration_it_does_not_list():
    tuner = create_tuner("Batch", BATCH_SPACE)
    # Each value comes from some option, but no option is this combination (a warm-start source's trial).
    mixed = {**BATCH_CONFIGS[0], "x": BATCH_CONFIGS[1]["x"]}
    assert tuner.space.contains(mixed) and mixed not in BATCH_CONFIGS
    tuner.observe(Trial(0, mixed, TrialState.CANCELED))
    assert tuner.suggest(1) == [BATCH_CONFIGS[0]]


@pytest.mark.parametrize(
    "space, message",
    [
        ({"a": {"_type": "choice", "_value": [{"x": 1}]}, "b": {"_type": "choice", "_value": [{"x": 2}]}},
         r"exactly one parameter.* 2 parameters \('a', 'b'\)"),
        ({"p": {"_type": "uniform", "_value": [0, 1]}}, r"'p' must be a choice"),
        ({"p": {"_type": "choice", "_value": [{"x": 1}, 3]}}, r"option 1 of 'p' is 3, not a configuration"),
        ({"p": {"_type": "choice", "_value": [{"x": 1}, {"x": 1}]}}, r"options 0 and 1 of 'p' are the same"),
        ({"p": {"_type": "choice", "_value": [{"x": 1}, {"y": 1}]}}, r"option 1 sets \['y'\] but option 0 sets \['x'\]"),
    ],
)
def test_batch_refuses_other_spaces(space, message):
    with pytest.raises(UnsupportedSpaceError, match=message):
        create_tuner("Batch", space)


# --- registry and classArgs -------------------------------------------------------------------------
def test_the_magic_s_help_lists_the_registries_without_loading_the_engines():
    """%%autotune? names every registered tuner and assessor; importing the magic (a notebook's
    %load_ext) imports neither scipy nor hyperopt: the registries name modules, not classes. Run in a
    fresh process, whose registry holds no test tuner registered by another test."""
    code = ("import sys, json; from autotune_nb.notebook.magic import AutotuneMagics; "
            "print([m for m in ('scipy', 'hyperopt') if m in sys.modules]); "
            "from autotune_nb.tuners import available_tuners; from autotune_nb.assessors import available_assessors; "
            "print(json.dumps([available_tuners(), available_assessors()])); print(AutotuneMagics.autotune.__doc__)")
    loaded, registries, doc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                                             check=True).stdout.split("\n", 2)
    assert loaded == "[]"
    tuners, assessors = json.loads(registries)
    assert {"TPE", "GP", "GridSearch"} <= set(tuners) and set(assessors) == {"ASHA", "Curvefitting", "Medianstop"}
    doc = " ".join(doc.split())  # argparse wraps the help
    assert f"tuner name, case-insensitive: {', '.join(tuners)}" in doc
    assert f"early stopping by an assessor, case-insensitive: {', '.join(assessors)}" in doc


def test_unknown_tuner_name_lists_the_valid_ones():
    with pytest.raises(ConfigurationError, match=r"'Nope'.*Anneal.*Batch.*Evolution.*GridSearch.*Random.*TPE_legacy"):
        create_tuner("Nope", MIXED_SPACE)


@pytest.mark.parametrize(
    "name, arg, known",
    [("TPE_legacy", "parallel", "parallel_optimize"), ("Evolution", "pop_size", "population_size"),
     ("Random", "parallel_optimize", "optimize_mode")],
)
def test_unknown_class_arg_is_named(name, arg, known):
    with pytest.raises(ConfigurationError, match=rf"unknown classArg '{arg}'.*{known}"):
        create_tuner(name, MIXED_SPACE, **{arg: True})


def test_invalid_constant_liar_type_is_named():
    with pytest.raises(ConfigurationError, match=r"constant_liar_type must be one of 'min', 'max', 'mean', got 'median'"):
        create_tuner("TPE_legacy", MIXED_SPACE, parallel_optimize=True, constant_liar_type="median")


def test_parallel_optimize_must_be_a_bool():
    with pytest.raises(ConfigurationError, match=r"parallel_optimize must be True or False, got 'yes'"):
        create_tuner("Anneal", MIXED_SPACE, parallel_optimize="yes")

