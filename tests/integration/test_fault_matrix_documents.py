"""Fault matrix, documents: search spaces and study JSON documents that used to slip through (trials
with NaN parameters, a best value of NaN) or crash with the wrong exception (OverflowError, KeyError,
RecursionError). Each is now refused with the project's own error, naming the parameter or field, the
value and the rule; a refused import writes nothing.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from IPython.core.error import UsageError

import autotune_nb as at
from autotune_nb.errors import ExportFormatError, SearchSpaceError
from autotune_nb.export import MAX_DEPTH
from autotune_nb.notebook.magic import AutotuneMagics
from autotune_nb.space import MAX_NESTING, SearchSpace

nan, inf = math.nan, math.inf


# --- search spaces: the JSON form (a real file) and the Python form go through one validator ---------
SPACES = [
    ("normal", [nan, 1], "x: normal needs finite [mu, sigma], got normal[nan, 1]"),
    ("normal", [inf, 1], "x: normal needs finite [mu, sigma], got normal[inf, 1]"),
    ("normal", [0, inf], "x: normal needs finite [mu, sigma], got normal[0, inf]"),
    ("qnormal", [0, 1, inf], "x: qnormal needs finite [mu, sigma, q], got qnormal[0, 1, inf]"),
    ("qnormal", [0, 1, 1e-320], "x: qnormal needs value / q finite for values up to 10, got q=1e-320"),
    ("lognormal", [1000, 1], "x: lognormal needs |mu| + 10 * sigma <= 709.783 (values reach 10 sigmas from mu; "
                             "exp of them must be finite), got mu=1000, sigma=1"),
    ("qlognormal", [0, 80, 1], "x: qlognormal needs |mu| + 10 * sigma <= 709.783"),
    ("uniform", [-1e308, 1e308], "x: uniform needs high - low finite, got [-1e+308, 1e+308]"),
    ("uniform", [0, 10**400], "x: uniform needs finite [low, high], got uniform[0, 1000"),
    ("randint", [0, 2**64], "x: randint needs -2**63 <= low < high <= 2**63 (values are drawn as int64)"),
    ("choice", [nan, 1.0], "x: choice options must not be or hold NaN (NaN equals nothing"),
    ("choice", [[1, nan], [2]], "got option 0: [1, nan]"),
    ("choice", [1, 1.0], "x: choice options must be distinct, got 1 (option 0) and 1.0 (option 1)"),
]


@pytest.mark.parametrize("type_name, values, message", SPACES, ids=[f"{t}{v}"[:40] for t, v, _ in SPACES])
def test_an_extreme_space_is_refused_naming_parameter_value_and_rule(tmp_path, type_name, values, message):
    path = tmp_path / "space.json"
    path.write_text(json.dumps({"x": {"_type": type_name, "_value": values}}))  # NaN, Infinity: Python's JSON
    with pytest.raises(SearchSpaceError) as from_file:
        SearchSpace.from_json(str(path))
    declare = getattr(at, type_name)
    with pytest.raises(SearchSpaceError) as declared:
        SearchSpace({"x": declare(values) if type_name == "choice" else declare(*values)})
    assert message in str(from_file.value)
    assert str(declared.value) == str(from_file.value)


def test_numpy_scalars_are_numbers_under_the_same_rules():
    assert SearchSpace({"x": at.normal(np.float32(0), np.float64(1))}).contains({"x": 0.5})
    assert SearchSpace({"k": at.randint(np.int64(0), np.int32(3))}).contains({"k": 2})
    with pytest.raises(SearchSpaceError, match=r"x: lognormal needs \|mu\| \+ 10 \* sigma <= 709.783"):
        SearchSpace({"x": at.lognormal(np.float64(1000), np.float32(1))})
    with pytest.raises(SearchSpaceError, match="x: choice options must not be or hold NaN"):
        SearchSpace({"x": at.choice([np.float64("nan"), 1.0])})


def nested_json(levels: int) -> dict:
    spec = {"_type": "uniform", "_value": [0, 1]}
    for _ in range(levels):
        spec = {"_type": "choice", "_value": [{"_name": "a", "n": spec}]}
    return {"n": spec}


def test_choices_nested_200_deep_are_refused_naming_the_path(tmp_path):
    path = tmp_path / "deep.json"
    path.write_text(json.dumps(nested_json(200)))
    with pytest.raises(SearchSpaceError) as caught:
        SearchSpace.from_json(str(path))
    deepest = ".".join(["n", "a"] * (MAX_NESTING + 1) + ["n"])
    assert str(caught.value) == f"{deepest}: choices nest 33 levels deep here; at most MAX_NESTING = 32 are allowed"

    declared = at.uniform(0, 1)
    with pytest.raises(SearchSpaceError, match="choices nest 33 levels deep here; at most MAX_NESTING = 32"):
        for _ in range(200):
            declared = at.choice([{"_name": "a", "n": declared}])
    # The limit itself is allowed, and such a space samples.
    space = SearchSpace(nested_json(MAX_NESTING))
    assert space.contains(space.sample(np.random.default_rng(0)))


# --- study documents ---------------------------------------------------------------------------------
@pytest.fixture
def document(tmp_path) -> dict:
    """A real study's export: x in uniform(0, 1), Random tuner, 3 SUCCEEDED trials."""
    study = at.Study({"x": at.uniform(0, 1)}, tuner="Random", seed=1, name="orig", storage=tmp_path / "a.db")
    study.run(lambda p: p["x"], max_trials=3, executor="inline")
    study.to_json(tmp_path / "orig.json")
    return json.loads((tmp_path / "orig.json").read_text())


def refused(tmp_path, text: str) -> str:
    """Import ``text`` into a fresh store: the ExportFormatError's message; the store holds nothing."""
    path, db = tmp_path / "doc.json", tmp_path / "b.db"
    path.write_text(text)
    with pytest.raises(ExportFormatError) as caught:
        at.Study.from_json(path, storage=db)
    with pytest.raises(at.StoreError, match="orig"):
        at.Study.load("orig", storage=db)
    assert str(caught.value).startswith(f"{path}: ")
    return str(caught.value)


def test_a_document_5000_deep_is_a_format_error_naming_the_file(tmp_path, document):
    document["trials"][0]["metrics"] = {"m": "DEEP"}
    text = json.dumps(document).replace('"DEEP"', "[" * 5000 + "]" * 5000)
    assert "not a JSON document Python can read (nested too deeply)" in refused(tmp_path, text)


def test_values_nested_deeper_than_max_depth_are_refused_naming_the_field(tmp_path, document):
    # 600 levels parse, but comparing such a value with a choice option exhausted the recursion limit.
    deep = "[" * 600 + "]" * 600
    document["study"]["space"]["c"] = {"_type": "choice", "_value": ["DEEP"]}
    for trial in document["trials"]:
        trial["params"]["c"] = "DEEP"
    message = refused(tmp_path, json.dumps(document).replace('"DEEP"', deep))
    assert f"must nest lists and objects at most MAX_DEPTH = {MAX_DEPTH} levels deep" in message
    assert "field 'trials[2].params.c[0][0][0]" in message


def test_a_400_digit_value_is_refused_naming_the_field(tmp_path, document):
    document["trials"][1]["value"] = 10**400
    message = refused(tmp_path, json.dumps(document))
    assert "field 'trials[1].value' must be a number or null (finite; null only for a trial that did not " \
           "succeed), got 1000000" in message


def test_a_400_digit_bound_of_the_space_is_refused_naming_the_field(tmp_path, document):
    document["study"]["space"]["x"]["_value"] = [0, 10**400]
    message = refused(tmp_path, json.dumps(document))
    assert "field 'study.space' is not a valid search space: x: uniform needs finite [low, high]" in message


def test_a_5000_digit_number_is_a_format_error_naming_the_file(tmp_path, document):
    document["trials"][1]["value"] = "HUGE"
    message = refused(tmp_path, json.dumps(document).replace('"HUGE"', "9" * 5000))
    assert "not a JSON document (Exceeds the limit (4300 digits) for integer string conversion" in message


@pytest.mark.parametrize("value", [{"$float": "NaN"}, {"$float": "Infinity"}, {"$float": "-Infinity"}, None])
def test_a_succeeded_trial_without_a_finite_value_is_refused(tmp_path, document, value):
    # A NaN value made best_value NaN for good: every comparison with NaN is false.
    document["trials"][1]["value"] = value
    message = refused(tmp_path, json.dumps(document))
    assert "field 'trials[1].value' must be a number or null (finite; null only for a trial that did not " \
           "succeed), got " in message


def test_a_trial_that_did_not_succeed_may_have_no_value_but_not_a_nan_one(tmp_path, document):
    document["trials"][1].update(state="FAILED", value=None)
    (tmp_path / "ok.json").write_text(json.dumps(document))
    assert at.Study.from_json(tmp_path / "ok.json").trials[1].value is None
    document["trials"][1]["value"] = {"$float": "NaN"}
    assert "field 'trials[1].value' must be a number or null" in refused(tmp_path, json.dumps(document))


@pytest.mark.parametrize("value", [{"$float": "NaN"}, {"$float": "Infinity"}])
def test_a_non_finite_intermediate_is_refused_naming_the_field_and_item(tmp_path, document, value):
    document["trials"][0]["intermediates"] = [[1, 0.5], [2, value]]
    message = refused(tmp_path, json.dumps(document))
    shown = "nan" if value["$float"] == "NaN" else "inf"
    assert f"field 'trials[0].intermediates' must be a list of [step (integer), value (finite number)], " \
           f"got [2, {shown}] (item 1)" in message


def test_a_non_finite_timestamp_is_refused_naming_the_field(tmp_path, document):
    document["trials"][2]["finished_at"] = {"$float": "Infinity"}
    assert "field 'trials[2].finished_at' must be a number (seconds, finite) or null, got inf" \
           in refused(tmp_path, json.dumps(document))


def test_parameters_outside_the_space_are_refused_naming_the_field(tmp_path, document):
    document["trials"][2]["params"]["x"] = 2.5
    assert "field 'trials[2].params.x' must be a value of uniform(0, 1), got 2.5" \
           in refused(tmp_path, json.dumps(document))
    document["trials"][2]["params"] = {"y": 0.5}
    assert "field 'trials[2].params' must be an object of exactly the parameters ['x'], got {'y': 0.5}" \
           in refused(tmp_path, json.dumps(document))


def test_a_batch_study_round_trips_and_its_parameters_are_checked_against_its_configurations(tmp_path):
    # Batch's trials carry the configurations' parameters, not the study's one "params" choice.
    batch = at.Study({"params": at.choice([{"lr": 0.1, "bs": 32}, {"lr": 0.01, "bs": 64}])}, tuner="Batch",
                     name="orig", storage=None)
    batch.run(lambda p: p["lr"], max_trials=2, executor="inline")
    batch.to_json(tmp_path / "batch.json")
    assert at.Study.from_json(tmp_path / "batch.json").trials == batch.trials
    document = json.loads((tmp_path / "batch.json").read_text())
    document["trials"][0]["params"]["bs"] = 48
    assert "field 'trials[0].params.bs' must be a value of choice([32, 64]), got 48" \
           in refused(tmp_path, json.dumps(document))


@pytest.mark.parametrize("field, value, message", [
    ("tuner", {"name": "NoSuchTuner", "args": {}},
     "field 'study.tuner' does not make a tuner here: unknown tuner 'NoSuchTuner'; valid names are"),
    ("tuner", {"name": "Random", "args": {"depth": 3}},
     "field 'study.tuner' does not make a tuner here: tuner Random: unknown classArg 'depth'"),
    ("assessor", {"name": "Oracle", "args": {}},
     "field 'study.assessor' does not make an assessor here: unknown assessor 'Oracle'"),
    ("seed", -1, "field 'study.seed' must be an integer or null (>= 0), got -1"),
    ("name", "  ", "field 'study.name' must be a non-empty string, got '  '"),
])
def test_settings_a_study_would_refuse_are_format_errors_naming_the_field(tmp_path, document, field, value,
                                                                          message):
    document["study"][field] = value
    assert message in refused(tmp_path, json.dumps(document))


def test_the_import_magic_reports_a_broken_document_in_one_line(tmp_path, document, monkeypatch):
    monkeypatch.setenv("AUTOTUNE_NB_STORE", str(tmp_path / "shared.db"))
    document["trials"][0]["metrics"] = {"m": "DEEP"}
    path = tmp_path / "deep.json"
    path.write_text(json.dumps(document).replace('"DEEP"', "[" * 5000 + "]" * 5000))
    with pytest.raises(UsageError, match=r"deep\.json: not a JSON document Python can read \(nested too deeply\)"):
        AutotuneMagics(shell=None)._line_command(["import", str(path)], {})
