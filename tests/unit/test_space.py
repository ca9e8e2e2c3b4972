"""Search space: NNI JSON parsing, Python declarations, sampling semantics, validation, encoding, grids."""

from __future__ import annotations

import copy
import inspect
import json
import math
import pickle

import numpy as np
import pytest

import autotune_nb as at
from autotune_nb.space import DISTRIBUTIONS, SearchSpace
from autotune_nb.testing.spaces import EVERY_TYPE

N = 400

NESTED = {
    "layer": {
        "_type": "choice",
        "_value": [
            {"_name": "Empty"},
            {"_name": "Conv", "kernel": {"_type": "choice", "_value": [1, 3, 5]},
             "width": {"_type": "quniform", "_value": [8, 64, 8]}},
            {"_name": "Pool", "size": {"_type": "randint", "_value": [2, 4]}},
        ],
    },
    "lr": {"_type": "loguniform", "_value": [1e-3, 1.0]},
}


def samples(spec, n=N, seed=0):
    space = SearchSpace(spec)
    rng = np.random.default_rng(seed)
    return [space.sample(rng) for _ in range(n)]


def column(configs, name):
    return np.array([c[name] for c in configs], dtype=float)


def test_every_nni_type_is_known():
    assert set(DISTRIBUTIONS) == {spec["_type"] for spec in EVERY_TYPE.values()}


def test_choice_samples_every_option_and_nothing_else():
    values = [c["c"] for c in samples(EVERY_TYPE)]
    assert set(map(repr, values)) == {"'a'", "2", "3.5"}


def test_randint_upper_bound_is_exclusive():
    values = column(samples(EVERY_TYPE), "ri")
    assert set(values) == {-2, -1, 0, 1, 2}


def test_uniform_and_loguniform_stay_in_bounds_and_spread_on_their_axis():
    configs = samples(EVERY_TYPE)
    u, lu = column(configs, "u"), column(configs, "lu")
    assert u.min() >= -1.5 and u.max() <= 2.5
    assert lu.min() >= 1e-4 and lu.max() <= 1e-1
    # log-uniform: a quarter of the draws below 10**-3.25, the log-axis quarter point.
    assert 0.18 < np.mean(lu < 10 ** -3.25) < 0.32


def test_quniform_is_clip_round_over_q():
    values = column(samples(EVERY_TYPE), "qu")
    # round(x / 0.5) * 0.5 for x in [0.3, 2.0] is one of 0.5 .. 2.0, all inside the bounds.
    assert set(values) == {0.5, 1.0, 1.5, 2.0}


def test_q_rounding_clips_to_the_bounds():
    space = SearchSpace({"q": at.quniform(0.1, 1.1, 0.4)})
    values = {space.sample(np.random.default_rng(s))["q"] for s in range(300)}
    # x in [0.1, 1.1]: round(x/0.4)*0.4 is 0.0 (clipped up to 0.1), 0.4, 0.8 or 1.2 (clipped down to 1.1).
    assert values == {0.1, 0.4, 0.8, 1.1}


def test_qloguniform_with_integer_grid_gives_ints_on_the_grid():
    values = [c["qlu"] for c in samples(EVERY_TYPE)]
    assert all(isinstance(v, int) and v % 16 == 0 and 16 <= v <= 512 for v in values)


def test_normal_types_follow_mu_sigma_and_q():
    configs = samples(EVERY_TYPE, n=2000)
    n = column(configs, "n")
    assert abs(n.mean() - 1.0) < 0.2 and abs(n.std() - 2.0) < 0.2
    qn = column(configs, "qn")
    assert np.allclose(qn / 0.5, np.round(qn / 0.5))
    ln = column(configs, "ln")
    assert ln.min() > 0 and abs(np.median(np.log(ln))) < 0.1
    qln = [c["qln"] for c in configs]
    assert all(isinstance(v, int) and v >= 0 for v in qln)


def test_sampled_configs_are_contained():
    space = SearchSpace(EVERY_TYPE)
    assert all(space.contains(c) for c in samples(EVERY_TYPE, n=100))
    assert not space.contains({**samples(EVERY_TYPE, n=1)[0], "ri": 3})
    assert not space.contains({"c": "a"})


def test_nested_choice_samples_only_the_chosen_branch():
    configs = samples(NESTED)
    keys = {"Empty": {"_name"}, "Conv": {"_name", "kernel", "width"}, "Pool": {"_name", "size"}}
    seen = set()
    for config in configs:
        layer = config["layer"]
        seen.add(layer["_name"])
        assert set(layer) == keys[layer["_name"]]
    assert seen == set(keys)
    space = SearchSpace(NESTED)
    assert all(space.contains(c) for c in configs)
    assert not space.contains({"layer": {"_name": "Pool", "size": 2, "kernel": 3}, "lr": 0.01})


def test_python_declarations_round_trip_to_nni_json_exactly():
    space = SearchSpace({
        "lr": at.loguniform(1e-4, 0.1, default=1e-3),
        "hidden": at.choice([128, 256, 512]),
        "k": at.randint(1, 8),
        "drop": at.quniform(0.0, 0.5, 0.1),
        "layer": at.choice([{"_name": "none"}, {"_name": "conv", "size": at.randint(2, 5)}]),
    })
    document = json.loads(space.to_json())
    assert document["lr"] == {"_type": "loguniform", "_value": [1e-4, 0.1], "_default": 1e-3}
    assert document["layer"]["_value"][1] == {"_name": "conv", "size": {"_type": "randint", "_value": [2, 5]}}
    assert SearchSpace(document) == space
    assert SearchSpace(document).to_nni() == document


def test_nni_json_file_is_accepted_as_is(tmp_path):
    path = tmp_path / "search_space.json"
    path.write_text(json.dumps(EVERY_TYPE))
    assert SearchSpace.from_json(str(path)).to_nni() == EVERY_TYPE


def test_defaults_are_declared_or_central():
    space = SearchSpace({"lr": at.loguniform(1e-4, 1e-2), "h": at.choice([8, 16], default=16),
                         "k": at.randint(0, 10), "layer": NESTED["layer"]})
    defaults = space.defaults()
    assert math.isclose(defaults["lr"], 1e-3)
    assert defaults["h"] == 16 and defaults["k"] == 4
    assert defaults["layer"] == {"_name": "Empty"}
    assert space.contains(defaults)


@pytest.mark.parametrize("spec, message", [
    ({"lr": {"_type": "loguniform", "_value": [0, 1]}}, "lr: loguniform needs 0 < low < high, got [0, 1]"),
    ({"x": {"_type": "uniform", "_value": [2, 1]}}, "x: uniform needs low < high, got [2, 1]"),
    ({"x": {"_type": "uniform", "_value": [0, "1"]}}, "x: uniform needs [low, high] numbers"),
    ({"x": {"_type": "quniform", "_value": [0, 1]}}, "x: quniform needs 3 values in _value, got 2"),
    ({"x": {"_type": "quniform", "_value": [0, 1, -1]}}, "x: quniform needs q > 0, got q=-1"),
    ({"x": {"_type": "qloguniform", "_value": [-1, 1, 1]}}, "x: qloguniform needs 0 < low < high"),
    ({"k": {"_type": "randint", "_value": [3, 3]}}, "k: randint needs low < high (high is exclusive)"),
    ({"k": {"_type": "randint", "_value": [0.5, 3]}}, "k: randint needs integer bounds"),
    ({"n": {"_type": "normal", "_value": [0, 0]}}, "n: normal needs sigma > 0, got sigma=0"),
    ({"n": {"_type": "qlognormal", "_value": [0, 1, 0]}}, "n: qlognormal needs q > 0"),
    ({"c": {"_type": "choice", "_value": []}}, "c: choice needs at least one option, got []"),
    ({"c": {"_type": "choice", "_value": [1, 2, 1]}}, "c: choice options must be distinct"),
    ({"c": {"_type": "choice", "_value": "abc"}}, "c: _value of choice must be a list"),
    ({"t": {"_type": "gaussian", "_value": [0, 1]}}, "t: unknown _type 'gaussian'; valid types are choice, randint"),
    ({"t": {"_value": [0, 1]}}, 't: a parameter is {"_type": ..., "_value": [...]}'),
    ({"t": {"_type": "uniform", "_value": [0, 1], "extra": 1}}, "t: unknown keys ['extra']"),
    ({"d": at.uniform(0, 1, default=2)}, "d: default 2 is not a legal value of uniform[0, 1]"),
    ({"layer": {"_type": "choice", "_value": [{"_name": "a", "s": {"_type": "randint", "_value": [5, 1]}}]}},
     "layer.a.s: randint needs low < high"),
    ({}, "the search space is empty"),
])
def test_every_broken_rule_names_the_parameter_the_value_and_the_rule(spec, message):
    with pytest.raises(at.SearchSpaceError) as info:
        SearchSpace(spec)
    assert message in str(info.value)


def test_bad_json_file_is_a_clear_error(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text("{not json")
    with pytest.raises(at.SearchSpaceError, match="not valid JSON"):
        SearchSpace.from_json(str(path))
    with pytest.raises(at.SearchSpaceError, match="cannot read search-space file"):
        SearchSpace.from_json(str(tmp_path / "missing.json"))


def test_same_seed_same_samples():
    assert samples(EVERY_TYPE, n=20, seed=5) == samples(EVERY_TYPE, n=20, seed=5)
    assert samples(EVERY_TYPE, n=20, seed=5) != samples(EVERY_TYPE, n=20, seed=6)


def test_unit_cube_round_trip():
    space = SearchSpace({**EVERY_TYPE, **NESTED})
    for config in samples({**EVERY_TYPE, **NESTED}, n=200):
        point = space.encode(config)
        active = ~np.isnan(point)
        assert np.all((point[active] >= 0) & (point[active] <= 1))
        back = space.decode(point)
        assert space.contains(back)
        assert set(back) == set(config)
        for name, value in config.items():
            if isinstance(value, (int, float)):
                assert back[name] == pytest.approx(value, rel=1e-9, abs=1e-12)
            else:
                assert back[name] == value


def test_inactive_nested_dimensions_encode_as_nan():
    space = SearchSpace(NESTED)
    keys = [d.key for d in space.dimensions]
    assert keys == ["layer", "layer/Conv/kernel", "layer/Conv/width", "layer/Pool/size", "lr"]
    point = space.encode({"layer": {"_name": "Pool", "size": 3}, "lr": 0.1})
    assert np.isnan(point[1]) and np.isnan(point[2]) and not np.isnan(point[3])


def test_decode_of_any_point_is_a_legal_config():
    space = SearchSpace({**EVERY_TYPE, **NESTED})
    rng = np.random.default_rng(1)
    for _ in range(300):
        assert space.contains(space.decode(rng.uniform(size=len(space.dimensions))))


def test_grid_enumerates_discrete_spaces_including_nested_branches():
    space = SearchSpace({"a": at.choice(["x", "y"]), "k": at.randint(0, 3),
                         "q": at.quniform(0.0, 1.0, 0.5),
                         "layer": at.choice([{"_name": "none"}, {"_name": "conv", "s": at.randint(1, 3)}])})
    grid = space.grid()
    assert len(grid) == 2 * 3 * 3 * 3 == space.grid_size()
    assert len({json.dumps(g, sort_keys=True) for g in grid}) == len(grid)
    assert all(space.contains(g) for g in grid)
    assert grid[0] == {"a": "x", "k": 0, "q": 0.0, "layer": {"_name": "none"}}


def test_grid_refuses_continuous_types_naming_the_parameter():
    with pytest.raises(at.SearchSpaceError, match="lr: loguniform is continuous"):
        SearchSpace({"lr": at.loguniform(1e-3, 1.0)}).grid()


def test_a_dict_option_without_name_is_a_plain_value():
    # NNI's Batch form: each option is a whole configuration.
    space = SearchSpace({"combo": {"_type": "choice", "_value": [{"lr": 0.1, "bs": 32}, {"lr": 0.01, "bs": 64}]}})
    assert not space["combo"].is_nested
    values = {json.dumps(space.sample(np.random.default_rng(s))["combo"], sort_keys=True) for s in range(30)}
    assert values == {'{"bs": 32, "lr": 0.1}', '{"bs": 64, "lr": 0.01}'}
    assert space.contains({"combo": {"lr": 0.01, "bs": 64}})
    assert not space.contains({"combo": {"lr": 0.5, "bs": 64}})
    config = {"combo": {"lr": 0.01, "bs": 64}}
    assert space.decode(space.encode(config)) == config


@pytest.mark.parametrize("copy_of", [lambda s: pickle.loads(pickle.dumps(s)), copy.deepcopy], ids=["pickle", "deepcopy"])
def test_a_copied_space_keeps_which_defaults_were_declared(copy_of):
    # "No default" is one marker object: a copy that made another would read as a declared default.
    space = SearchSpace({**NESTED, "k": at.randint(1, 5), "c": at.choice(["a", "b"], default="b")})
    twin = copy_of(space)
    assert twin == space and twin.defaults() == space.defaults()
    assert not twin["k"].has_explicit_default and twin["c"].has_explicit_default
    assert twin.to_nni() == space.to_nni()


def test_the_space_package_exports_the_declaration_functions():
    import autotune_nb.space as space

    # A module of the package named like a declaration would shadow it once imported.
    for name in DISTRIBUTIONS:
        assert inspect.isfunction(getattr(space, name)) and getattr(space, name) is getattr(at, name)
    assert isinstance(space.choice([{"_name": "a", "x": at.randint(0, 2)}]).subspaces[0], SearchSpace)
