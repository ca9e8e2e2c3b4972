"""NNI's classic NAS types, layer_choice and input_choice: validation, JSON, values, and how a study
with them is exported and drawn."""

from __future__ import annotations

import json

import numpy as np
import pytest

import autotune_nb as at
from autotune_nb.errors import SearchSpaceError
from autotune_nb.space import SearchSpace
from autotune_nb.testing.tuner_contract import NAS_SPACE, nas_objective
from autotune_nb.views import charts

CELL = {
    "op": {"_type": "layer_choice", "_value": ["conv3", "conv5", "pool"]},
    "inputs": {"_type": "input_choice", "_value": {"candidates": ["in0", "in1", "node0"], "n_chosen": 2}},
}


@pytest.mark.parametrize("spec, message", [
    ({"_type": "layer_choice", "_value": []}, r"layer_choice candidates must be a non-empty list of names, got \[\]"),
    ({"_type": "layer_choice", "_value": ["a", 3]}, "must be non-empty strings .names., got candidate 1: 3"),
    ({"_type": "layer_choice", "_value": ["a", ""]}, "got candidate 1: ''"),
    ({"_type": "layer_choice", "_value": ["a", "a"]}, "candidates must be distinct, got 'a' twice"),
    ({"_type": "layer_choice", "_value": ["a", "b"], "_default": "c"}, "default 'c' is not a legal value"),
    ({"_type": "input_choice", "_value": ["a", "b"]}, r'needs _value \{"candidates": \[names\], "n_chosen": k\}'),
    ({"_type": "input_choice", "_value": {"candidates": ["a", "b"]}}, "needs _value"),
    ({"_type": "input_choice", "_value": {"candidates": ["a", "b"], "n_chosen": 3}},
     r"n_chosen must be an integer in \[1, 2\] .the number of candidates., got 3"),
    ({"_type": "input_choice", "_value": {"candidates": ["a", "b"], "n_chosen": True}}, "got True"),
    ({"_type": "input_choice", "_value": {"candidates": ["a", "b"], "n_chosen": 0}}, "got 0"),
    ({"_type": "input_choice", "_value": {"candidates": [f"x{i}" for i in range(30)], "n_chosen": 10}},
     r"C\(30, 10\) = 30045015 subsets; at most MAX_INPUT_SUBSETS = 10000"),
    ({"_type": "input_choice", "_value": {"candidates": ["a", "b", "c"], "n_chosen": 2}, "_default": ["b", "a"]},
     r"default \['b', 'a'\] is not a legal value"),
])
def test_bad_values_are_refused_naming_the_parameter_the_value_and_the_rule(spec, message):
    with pytest.raises(SearchSpaceError, match=f"^cell: .*{message}"):
        SearchSpace({"cell": spec})


def test_values_defaults_membership_and_grid():
    space = SearchSpace(CELL)
    assert space.defaults() == {"op": "conv3", "inputs": ["in0", "in1"]}
    assert space.contains({"op": "pool", "inputs": ["in0", "node0"]})
    assert not space.contains({"op": "pool", "inputs": ["node0", "in0"]})  # candidates' order
    assert not space.contains({"op": "pool", "inputs": ["in0"]})
    assert not space.contains({"op": "maxpool", "inputs": ["in0", "in1"]})
    assert space.grid_size() == 3 * 3
    rng = np.random.default_rng(0)
    samples = [space.sample(rng) for _ in range(200)]
    assert all(space.contains(s) for s in samples)
    assert {s["op"] for s in samples} == {"conv3", "conv5", "pool"}
    assert {tuple(s["inputs"]) for s in samples} == {("in0", "in1"), ("in0", "node0"), ("in1", "node0")}
    samples[0]["inputs"].append("changed")  # every value is its own list
    assert all(len(s["inputs"]) == 2 for s in samples[1:]) and space.defaults()["inputs"] == ["in0", "in1"]


def test_json_round_trip_and_python_declarations():
    space = SearchSpace(CELL)
    assert SearchSpace.from_json(space.to_json()) == space
    assert json.loads(space.to_json()) == CELL
    declared = SearchSpace({"op": at.layer_choice(["conv3", "conv5", "pool"]),
                            "inputs": at.input_choice(["in0", "in1", "node0"], n_chosen=2)})
    assert declared == space
    with_default = SearchSpace({"op": at.layer_choice(["a", "b"], default="b")})
    assert with_default.defaults() == {"op": "b"} and SearchSpace.from_json(with_default.to_json()) == with_default


def test_unit_cube_encoding_round_trips():
    space = SearchSpace(CELL)
    for config in space.grid():
        assert space.decode(space.encode(config)) == config


@pytest.mark.parametrize("tuner", ["TPE", "Random", "Anneal", "Evolution", "GridSearch", "GP", "PPOTuner"])
def test_tuners_that_search_choices_search_the_nas_types(tuner):
    from autotune_nb.testing.tuner_contract import run_sequential
    from autotune_nb.tuners import create_tuner

    instance = create_tuner(tuner, NAS_SPACE, optimize_mode="minimize", seed=0)
    values = run_sequential(instance, nas_objective, 12)
    assert len(values) == 12


def test_a_study_with_nas_types_exports_and_its_parallel_coordinates_show_the_categories(tmp_path):
    study = at.Study.create(NAS_SPACE, direction="minimize", tuner="Random", seed=0, storage=None)
    study.run(nas_objective, max_trials=6, executor="inline")
    path = tmp_path / "nas.json"
    study.to_json(path)
    again = at.Study.from_json(path)
    assert again.space == study.space
    assert [t.params for t in again.trials] == [t.params for t in study.trials]
    assert all(isinstance(t.params["inputs"], list) for t in again.trials)

    chart = charts.parallel_chart(charts.columns_of(study.trials), "minimize", study.space)
    axes = {axis.label: axis for axis in chart.axes}
    assert axes["op"].scale == "category" and axes["op"].tick_labels == ("conv3", "conv5", "sepconv", "pool")
    assert axes["inputs"].tick_labels[0] == "[in0, in1]" and len(axes["inputs"].tick_labels) == 6
    assert np.all((chart.coordinates >= 0) & (chart.coordinates <= 1)) and len(chart.numbers) == 6
    charts.build(study.trials, direction="minimize", space=study.space)
