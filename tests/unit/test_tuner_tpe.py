"""The native multivariate TPE (tuners/tpe.py): the tuner contract, determinism, legal values on every
type and on nested branches, the constant liar, early-stopped trials, classArg checks, and search
quality against random search on two small functions."""

from __future__ import annotations

import math

import numpy as np
import pytest

from autotune_nb.errors import ConfigurationError
from autotune_nb.space import SearchSpace
from autotune_nb.testing.spaces import EVERY_TYPE as EVERY_TYPE_BASE
from autotune_nb.testing.tuner_contract import (
    MIXED_SPACE,
    TunerContract,
    finished,
    mixed_objective,
    run_sequential,
)
from autotune_nb.trial import TrialState
from autotune_nb.tuners import create_tuner, tuner_class
from autotune_nb.tuners.base import config_key
from autotune_nb.tuners.tpe import LIAR_TYPES, TPETuner

EVERY_TYPE = {
    **EVERY_TYPE_BASE,
    "wide": {"_type": "randint", "_value": [0, 1000]},  # many values: an ordinal kernel
}

NESTED = {
    "layer": {
        "_type": "choice",
        "_value": [
            {"_name": "Empty"},
            {"_name": "Conv", "kernel": {"_type": "choice", "_value": [1, 3, 5]},
             "width": {"_type": "quniform", "_value": [8, 64, 8]}},
            {"_name": "Pool", "size": {"_type": "randint", "_value": [2, 4]},
             "drop": {"_type": "uniform", "_value": [0.0, 0.5]}},
        ],
    },
    "lr": {"_type": "loguniform", "_value": [1e-3, 1.0]},
}


def nested_objective(params: dict) -> float:
    """Best on the Conv branch with kernel 3 and width 32, lr 0.03."""
    layer = params["layer"]
    value = (math.log10(params["lr"]) + 1.5) ** 2
    if layer["_name"] == "Conv":
        return value + (layer["kernel"] != 3) + ((layer["width"] - 32) / 32) ** 2
    if layer["_name"] == "Pool":
        return value + 1.5 + layer["drop"]
    return value + 2.0


def every_type_objective(params: dict) -> float:
    return (params["u"] - 1) ** 2 + (math.log10(params["lu"]) + 2) ** 2 + abs(params["qn"]) + (params["c"] != 2)


# The contract with the default liar: tests/unit/test_tuner_contracts.py.
class TestTPEWorstLiarContract(TunerContract):
    tuner_name = "TPE"
    class_args = {"constant_liar_type": "worst", "n_startup_jobs": 3}


def test_tpe_is_the_registered_default():
    assert tuner_class("TPE") is TPETuner
    assert tuner_class("tpe") is TPETuner


def run_batches(tuner, objective, n_trials: int, batch: int) -> list[dict]:
    """Ask ``batch`` configurations, then tell all their results; returns the configurations."""
    configs: list[dict] = []
    while len(configs) < n_trials:
        asked = tuner.suggest(batch)
        for config in asked:
            tuner.observe(finished(len(configs), config, objective(config)))
            configs.append(config)
    return configs


def test_same_seed_same_configurations_in_batches_and_on_nested_spaces():
    first = run_batches(TPETuner(NESTED, optimize_mode="minimize", seed=5), nested_objective, 24, 3)
    second = run_batches(TPETuner(NESTED, optimize_mode="minimize", seed=5), nested_objective, 24, 3)
    other = run_batches(TPETuner(NESTED, optimize_mode="minimize", seed=6), nested_objective, 24, 3)
    assert [config_key(c) for c in first] == [config_key(c) for c in second]
    assert [config_key(c) for c in first] != [config_key(c) for c in other]


def test_every_type_stays_legal_bounded_and_quantized():
    space = SearchSpace(EVERY_TYPE)
    tuner = TPETuner(EVERY_TYPE, optimize_mode="minimize", seed=1, n_startup_jobs=5)
    configs = run_batches(tuner, every_type_objective, 40, 2)
    assert all(space.contains(c) for c in configs), [c for c in configs if not space.contains(c)]
    assert all(c["qlu"] % 16 == 0 and 16 <= c["qlu"] <= 512 for c in configs)
    assert all(c["qu"] in (0.5, 1.0, 1.5, 2.0) for c in configs)
    assert all(isinstance(c["wide"], int) and 0 <= c["wide"] < 1000 for c in configs)
    assert all(c["qn"] % 0.5 == 0 and c["qln"] == round(c["qln"]) for c in configs)


def test_nested_branches_are_respected_and_the_best_branch_is_found():
    space = SearchSpace(NESTED)
    tuner = TPETuner(NESTED, optimize_mode="minimize", seed=2)
    configs = run_batches(tuner, nested_objective, 40, 1)
    assert all(space.contains(c) for c in configs)
    later = [c["layer"]["_name"] for c in configs[20:]]
    assert later.count("Conv") > len(later) / 2, later


@pytest.mark.parametrize("liar", LIAR_TYPES)
def test_constant_liar_never_proposes_a_running_configuration_twice(liar):
    # 3 x 4 = 12 configurations in all: the model will want to repeat the best ones.
    space = {"a": {"_type": "choice", "_value": ["x", "y", "z"]}, "b": {"_type": "randint", "_value": [0, 4]}}
    tuner = TPETuner(space, optimize_mode="minimize", seed=0, n_startup_jobs=2, constant_liar_type=liar)
    run_sequential(tuner, lambda p: p["b"] + (p["a"] != "y"), 6)
    running = tuner.suggest(5) + tuner.suggest(4)
    keys = [config_key(c) for c in running]
    assert len(set(keys)) == 9, running
    assert len(tuner.suggest(3)) == 3
    # All 12 are running now: nothing is left to propose.
    assert tuner.suggest(2) == []


def test_running_configurations_are_not_repeated_on_a_continuous_space():
    tuner = TPETuner(MIXED_SPACE, optimize_mode="minimize", seed=3)
    run_sequential(tuner, mixed_objective, 15)
    batch = tuner.suggest(8)
    assert len({config_key(c) for c in batch}) == 8


def test_early_stopped_trial_counts_with_its_last_reported_value():
    space = {"x": {"_type": "uniform", "_value": [0, 1]}}
    tuner = TPETuner(space, optimize_mode="minimize", seed=0, n_startup_jobs=1)
    for number, x in enumerate(np.linspace(0.4, 1.0, 12)):
        tuner.observe(finished(number, {"x": float(x)}, 5.0))
    intermediates = ((1, 9.0), (2, 0.1))  # the last one, 0.1, is by far the best loss
    tuner.observe(finished(12, {"x": 0.05}, None, TrialState.EARLY_STOPPED, intermediates))
    tuner.observe(finished(13, {"x": 0.95}, None, TrialState.FAILED))
    xs = [c["x"] for c in tuner.suggest(10)]
    assert np.median(xs) < 0.25, xs


@pytest.mark.parametrize(
    "args, named",
    [
        ({"gamma": 1.5}, "gamma"),
        ({"gamma": 0}, "gamma"),
        ({"gamma": 10**400}, "gamma must be a finite number > 0 and < 1 .*, too large for a float"),
        ({"n_ei_candidates": 0}, "n_ei_candidates"),
        ({"n_startup_jobs": -1}, "n_startup_jobs"),
        ({"n_startup_jobs": 2.5}, "n_startup_jobs"),
        ({"constant_liar_type": "min"}, "constant_liar_type"),
    ],
)
def test_bad_class_args_are_refused_by_name(args, named):
    with pytest.raises(ConfigurationError, match=named):
        create_tuner("TPE", MIXED_SPACE, **args)


def branin(p: dict) -> float:
    x1, x2 = p["x1"], p["x2"]
    valley = (x2 - 5.1 / (4 * math.pi**2) * x1**2 + 5 / math.pi * x1 - 6) ** 2
    return valley + 10 * (1 - 1 / (8 * math.pi)) * math.cos(x1) + 10


BRANIN_SPACE = {"x1": {"_type": "uniform", "_value": [-5, 10]}, "x2": {"_type": "uniform", "_value": [0, 15]}}


@pytest.mark.parametrize(
    "space, objective, minimum",
    [(BRANIN_SPACE, branin, 0.397887), (MIXED_SPACE, mixed_objective, 0.0)],
    ids=["branin", "mixed"],
)
def test_mean_regret_beats_random_search(space, objective, minimum):
    seeds, n_trials = range(8), 40
    tpe = [min(run_sequential(TPETuner(space, optimize_mode="minimize", seed=s), objective, n_trials)) - minimum
           for s in seeds]
    parsed = SearchSpace(space)
    rand = []
    for s in seeds:
        rng = np.random.default_rng(100 + s)
        rand.append(min(objective(parsed.sample(rng)) for _ in range(n_trials)) - minimum)
    # A statistical margin: TPE's mean regret under half of random search's.
    assert np.mean(tpe) < 0.5 * np.mean(rand), (np.mean(tpe), np.mean(rand))
