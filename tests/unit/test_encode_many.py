"""``dimensions.encode_many`` (the dashboard's batch encoding) gives ``SearchSpace.encode``'s points."""

import numpy as np
import pytest

from autotune_nb.space import SearchSpace
from autotune_nb.space.dimensions import encode_many

SPACES = {
    "flat": {
        "lr": {"_type": "loguniform", "_value": [1e-4, 0.1]},
        "units": {"_type": "quniform", "_value": [16, 256, 16]},
        "act": {"_type": "choice", "_value": ["relu", 2, True, None]},  # 2 and True: told apart by type
        "n": {"_type": "randint", "_value": [0, 10]},
        "noise": {"_type": "normal", "_value": [0, 1]},
    },
    "nested": {
        "layer": {"_type": "choice", "_value": [
            {"_name": "conv", "k": {"_type": "choice", "_value": [3, 5]}, "lr": {"_type": "qloguniform", "_value": [1e-3, 1, 1e-3]}},
            {"_name": "pool"},
        ]},
        "x": {"_type": "uniform", "_value": [-1, 1]},
    },
    "nas": {  # an input_choice's value is a list: unhashable, converted each time
        "op": {"_type": "layer_choice", "_value": ["conv3", "conv5", "pool"]},
        "inputs": {"_type": "input_choice", "_value": {"candidates": ["in0", "in1", "node0"], "n_chosen": 2}},
    },
}


@pytest.mark.parametrize("name", SPACES)
def test_encode_many_is_encode_row_by_row(name):
    space = SearchSpace(SPACES[name])
    rng = np.random.default_rng(0)
    configs = [space.sample(rng) for _ in range(300)]
    expected = np.array([space.encode(config) for config in configs])
    assert np.array_equal(encode_many(space.dimensions, configs), expected, equal_nan=True)
    if name == "nested":
        assert np.isnan(expected).any()  # inactive branches were among them


def test_out_of_range_values_are_clipped_as_encode_clips_them():
    space = SearchSpace(SPACES["flat"])
    config = {"lr": 10.0, "units": 0, "act": True, "n": 3, "noise": 0.0}
    assert np.array_equal(encode_many(space.dimensions, [config])[0], space.encode(config))
    assert encode_many(space.dimensions, []).shape == (0, len(space.dimensions))
