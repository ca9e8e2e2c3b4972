"""SMAC: the extra it needs, the space as a ConfigSpace and back, its classArgs, running trials."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from autotune_nb.errors import ConfigurationError, UnsupportedSpaceError
from autotune_nb.space import SearchSpace
from autotune_nb.testing.spaces import EVERY_TYPE
from autotune_nb.testing.tuner_contract import MIXED_SPACE, finished, mixed_objective, run_sequential
from autotune_nb.trial import TrialState
from autotune_nb.tuners import create_tuner
from autotune_nb.tuners.base import config_key

#: Every type SMAC translates, a nested choice and the NAS types.
TRANSLATED = {
    **{name: spec for name, spec in EVERY_TYPE.items() if spec["_type"] not in ("lognormal", "qlognormal")},
    "layer": {"_type": "choice", "_value": [
        {"_name": "conv", "kernel": {"_type": "randint", "_value": [1, 4]},
         "act": {"_type": "choice", "_value": [{"_name": "prelu", "slope": {"_type": "uniform", "_value": [0, 1]}},
                                               "relu"]}},
        {"_name": "pool"}, 7]},
    "op": {"_type": "layer_choice", "_value": ["a", "b", "c"]},
    "inputs": {"_type": "input_choice", "_value": {"candidates": ["x", "y", "z"], "n_chosen": 2}},
    "batch": {"_type": "quniform", "_value": [16, 256, 16]},
}


def smac(space=MIXED_SPACE, seed: int = 0, **class_args):
    return create_tuner("SMAC", space, optimize_mode="minimize", seed=seed, **class_args)


def test_without_smac_naming_it_says_how_to_install_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "smac", None)  # import smac raises ImportError
    with pytest.raises(ConfigurationError, match=r"pip install autotune_nb\[smac\]"):
        smac()


pytest.importorskip("smac")


def test_every_translated_type_round_trips_through_configspace():
    """Exactly, but for the continuous values, which ConfigSpace keeps to 13 decimal places."""
    tuner = smac(TRANSLATED)
    space, rng = SearchSpace(TRANSLATED), np.random.default_rng(0)
    continuous = {dim.key for dim in space.dimensions if dim.distribution.type_name in ("uniform", "loguniform", "normal")}
    configs = [space.sample(rng) for _ in range(300)] + [space.defaults()]
    for config in configs:
        again = space.flatten(tuner.translation.to_config(tuner.translation.to_configspace(config)))
        flat = space.flatten(config)
        assert again.keys() == flat.keys()
        for key, value in flat.items():
            assert again[key] == (pytest.approx(value, rel=1e-9, abs=1e-12) if key in continuous else value), key
            assert type(again[key]) is type(value), key
    assert {c["layer"]["_name"] if isinstance(c["layer"], dict) else c["layer"] for c in configs} == {
        "conv", "pool", 7}


def test_the_configspace_keeps_nesting_log_scales_and_bounds():
    configspace = smac(TRANSLATED).translation.configspace
    assert configspace["lu"].log and configspace["qlu"].log and not configspace["u"].log
    assert (configspace["ri"].lower, configspace["ri"].upper) == (-2, 2)  # randint's high is exclusive
    conditions = {str(c) for c in configspace.conditions}
    assert "layer/conv/kernel | layer == 0" in conditions
    assert "layer/conv/act/prelu/slope | layer/conv/act == 0" in conditions


def test_suggestions_of_every_type_are_legal_and_q_types_on_their_grid():
    tuner = smac(TRANSLATED, seed=2)
    values = run_sequential(tuner, lambda p: p["u"] + p["batch"] / 256, 15)
    assert len(values) == 15
    for trial in tuner.history:
        assert tuner.space.contains(trial.params)
        assert trial.params["batch"] % 16 == 0 and isinstance(trial.params["batch"], int)


def test_log_normal_types_are_refused_when_created():
    with pytest.raises(UnsupportedSpaceError, match="SMACTuner cannot search 'ln' of type lognormal"):
        smac({"ln": EVERY_TYPE["ln"]})


@pytest.mark.parametrize("args, message", [
    ({"config_dedup": "yes"}, "config_dedup must be True or False, got 'yes'"),
    ({"n_trials": 10}, "unknown classArg 'n_trials'"),
])
def test_bad_class_args_are_refused(args, message):
    with pytest.raises(ConfigurationError, match=message):
        smac(**args)


def test_running_and_failed_configurations_are_not_proposed_again():
    tuner = smac({"k": {"_type": "randint", "_value": [0, 6]}, "c": {"_type": "choice", "_value": ["a", "b"]}})
    running = tuner.suggest(4)
    failed = tuner.suggest(1)
    tuner.observe(finished(0, failed[0], None, TrialState.FAILED))
    later = tuner.suggest(4)
    keys = [config_key(c) for c in running + failed + later]
    assert len(set(keys)) == len(keys) == 9


def test_config_dedup_keeps_finished_configurations_from_running_again():
    space = {"k": {"_type": "randint", "_value": [0, 5]}}
    tuner = smac(space, config_dedup=True)
    values = run_sequential(tuner, lambda p: float(p["k"]), 10)
    assert sorted(values) == [0.0, 1.0, 2.0, 3.0, 4.0]  # each once, then the space is exhausted


def test_trials_it_did_not_ask_for_are_told_to_smac():
    tuner = smac()
    rng = np.random.default_rng(0)
    for number in range(12):
        params = tuner.space.sample(rng)
        tuner.observe(finished(number, params, mixed_objective(params)))
    assert len(tuner._smac.runhistory) == 12
    [config] = tuner.suggest(1)
    assert tuner.space.contains(config)
