"""Study JSON documents: exact round trips, strict JSON, clear errors, and no code ever run on import."""

from __future__ import annotations

import copy
import json
import math
import os

import numpy as np
import pytest

from autotune_nb.errors import ExportFormatError
from autotune_nb.codec import decode_json, encode_json
from autotune_nb.export import (
    read_json,
    study_to_document,
    write_json,
)
from autotune_nb.testing.store_contract import (
    full_trial,
    make_config,
    running_trial,
    succeeded,
)
from autotune_nb.trial import Trial, TrialState

CONFIG = make_config("digits", tuner="TPE", tuner_args={"n_startup_jobs": 5}, assessor="Medianstop",
                     assessor_args={"start_step": 2}, direction="minimize", seed=3)
# Reports are finite numbers now (live and in documents); full_trial's infinite one is the store's case.
TRIALS = [full_trial(0).replace(intermediates=((1, 0.5), (2, 0.75), (5, 0.8))), succeeded(1, 0.25), running_trial(2),
          running_trial(3).replace(state=TrialState.FAILED, error="Traceback...", reason="ValueError: x")]


@pytest.fixture
def exported(tmp_path) -> str:
    path = os.fspath(tmp_path / "study.json")
    write_json(path, CONFIG, TRIALS, state="finished")
    return path


def document() -> dict:
    return copy.deepcopy(study_to_document(CONFIG, TRIALS, state="finished"))


# --- round trip ----------------------------------------------------------------------------------
def test_a_written_study_reads_back_equal(exported):
    assert read_json(exported) == (CONFIG, TRIALS)


def test_the_document_carries_its_format_version_and_provenance(exported):
    with open(exported, encoding="utf-8") as f:
        doc = json.load(f)
    assert (doc["format"], doc["version"]) == ("autotune-study", 1)
    assert doc["autotune_nb_version"] == "0.1.0"
    assert doc["exported_at"].endswith("+00:00")
    assert doc["study"]["state"] == "finished"
    assert doc["study"]["tuner"] == {"name": "TPE", "args": {"n_startup_jobs": 5}}
    assert doc["trials"][0]["duration"] == pytest.approx(42.25)


def test_the_file_is_strict_json_even_with_infinite_values(exported):
    def refuse(constant: str):
        raise AssertionError(f"non-standard JSON constant {constant}")

    with open(exported, encoding="utf-8") as f:
        doc = json.load(f, parse_constant=refuse)
    assert doc["trials"][0]["metrics"]["worst"] == {"$float": "-Infinity"}


def test_trials_are_written_by_number_and_read_back_sorted(tmp_path):
    path = tmp_path / "study.json"
    write_json(path, CONFIG, list(reversed(TRIALS)))
    assert [t.number for t in read_json(path)[1]] == [0, 1, 2, 3]


def test_writing_replaces_the_file_and_leaves_no_temporary_behind(exported, tmp_path):
    write_json(exported, CONFIG, TRIALS[:1])
    assert read_json(exported)[1] == TRIALS[:1]
    assert os.listdir(tmp_path) == ["study.json"]


def test_writing_into_a_missing_folder_names_the_file_asked_for(tmp_path):
    target = tmp_path / "no-such-folder" / "study.json"
    with pytest.raises(FileNotFoundError, match=f"cannot write {str(target)!r}: No such file or directory"):
        write_json(target, CONFIG, TRIALS)


def test_an_unknown_study_state_is_refused_on_export():
    with pytest.raises(ExportFormatError, match="running, finished, stopped, failed.*'done'"):
        study_to_document(CONFIG, TRIALS, state="done")


# --- JSON values ---------------------------------------------------------------------------------
@pytest.mark.parametrize("value", [math.inf, -math.inf, {"a": [1, -math.inf]}, {"$float": "a user's dict"}])
def test_non_finite_floats_round_trip_through_json_text(value):
    assert decode_json(encode_json(value)) == value


def test_nan_round_trips_as_nan():
    assert math.isnan(decode_json(encode_json(math.nan)))


def test_values_json_cannot_hold_are_converted_as_documented():
    class Model:
        def __repr__(self) -> str:
            return "Model(depth=3)"

    value = {"count": np.int64(3), "score": np.float32(0.5), "curve": np.array([1.0, 2.0]), "pair": (1, 2),
             "tags": {"b", "a"}, "model": Model(), 7: "int key"}
    assert decode_json(encode_json(value)) == {"count": 3, "score": 0.5, "curve": [1.0, 2.0], "pair": [1, 2],
                                               "tags": ["a", "b"], "model": "Model(depth=3)", "7": "int key"}


# --- malformed documents ---------------------------------------------------------------------------
def write_document(tmp_path, doc) -> str:
    path = os.fspath(tmp_path / "bad.json")
    with open(path, "w", encoding="utf-8") as f:
        json.dump(doc, f)
    return path


def drop(key: str):
    def change(doc: dict) -> None:
        *parents, last = key.split(".")
        target = doc
        for part in parents:
            target = target[int(part)] if part.isdigit() else target[part]
        del target[last]
    return change


def put(key: str, value):
    def change(doc: dict) -> None:
        *parents, last = key.split(".")
        target = doc
        for part in parents:
            target = target[int(part)] if part.isdigit() else target[part]
        target[int(last) if last.isdigit() else last] = value
    return change


MALFORMED = [
    (put("format", "optuna-study"), "'format' must be 'autotune-study'"),
    (drop("format"), "'format' is missing"),
    (put("version", "1"), "'version' must be an integer"),
    (put("version", 0), "'version' must be an integer from 1"),
    (drop("study"), "'study' is missing"),
    (put("study", []), "'study' must be an object"),
    (drop("study.name"), "'study.name' is missing"),
    (put("study.direction", "up"), "'study.direction' must be 'maximize' or 'minimize'"),
    (put("study.space", {"lr": {"_type": "lognormal_ish", "_value": [1]}}), "'study.space' is not a valid"),
    (put("study.tuner", "TPE"), "'study.tuner' must be an object"),
    (drop("study.tuner.name"), "'study.tuner.name' is missing"),
    (put("study.assessor.args", [1]), "'study.assessor.args' must be an object"),
    (put("study.seed", 1.5), "'study.seed' must be an integer or null"),
    (put("study.state", "paused"), "'study.state' must be one of"),
    (put("trials", {}), "'trials' must be a list"),
    (put("trials.1", "trial"), "'trials[1]' must be an object"),
    (put("trials.1.number", -1), "'trials[1].number' must be an integer >= 0"),
    (put("trials.1.number", 0), "each trial number once; 0 repeats"),
    (put("trials.1.state", "DONE"), "'trials[1].state' must be one of WAITING, RUNNING"),
    (put("trials.1.value", "0.25"), "'trials[1].value' must be a number or null"),
    (put("trials.1.value", True), "'trials[1].value' must be a number or null"),
    (put("trials.1.params", [0.01]), "'trials[1].params' must be an object"),
    (put("trials.0.intermediates", [[1, 0.5, 3]]), "'trials[0].intermediates' must be a list of [step"),
    (put("trials.0.intermediates", [[1.5, 0.5]]), "'trials[0].intermediates' must be a list of [step"),
    (drop("trials.0.metrics"), "'trials[0].metrics' is missing"),
    (put("trials.0.started_at", "yesterday"), "'trials[0].started_at' must be a number"),
    (put("trials.0.slot", "gpu0"), "'trials[0].slot' must be an integer or null"),
    (put("trials.0.error", 12), "'trials[0].error' must be a string or null"),
]


@pytest.mark.parametrize("change, message", MALFORMED, ids=[m for _, m in MALFORMED])
def test_a_malformed_document_names_the_file_and_the_field(tmp_path, change, message):
    doc = document()
    change(doc)
    path = write_document(tmp_path, doc)
    with pytest.raises(ExportFormatError) as caught:
        read_json(path)
    assert str(caught.value).startswith(path + ": ")
    assert message in str(caught.value)


def test_a_newer_format_version_is_refused_with_the_fix(tmp_path):
    doc = document()
    doc["version"] = 2
    with pytest.raises(ExportFormatError, match=r"format version 2 was written by a newer autotune_nb.*upgrade"):
        read_json(write_document(tmp_path, doc))


@pytest.mark.parametrize("content", [b"{\"format\": \"autotune-study\",", b"\x80\x81 binary", b""])
def test_a_file_that_is_not_json_is_refused(tmp_path, content):
    path = tmp_path / "broken.json"
    path.write_bytes(content)
    with pytest.raises(ExportFormatError, match=r"broken\.json: not a JSON document"):
        read_json(path)


def test_a_top_level_that_is_not_an_object_is_refused(tmp_path):
    with pytest.raises(ExportFormatError, match="'<top level>' must be an object"):
        read_json(write_document(tmp_path, [1, 2]))


def test_unknown_extra_fields_are_ignored(tmp_path):
    doc = document()
    doc["comment"] = "from a notebook"
    doc["trials"][0]["annotations"] = {"colour": "red"}
    assert read_json(write_document(tmp_path, doc)) == (CONFIG, TRIALS)


# --- importing never runs code -------------------------------------------------------------------
def test_code_in_a_document_stays_text(tmp_path):
    marker = tmp_path / "pwned"
    payload = f"__import__('os').system('touch {marker}')"
    doc = document()
    doc["study"]["name"] = payload
    doc["trials"][1]["metrics"] = {"lr": payload, "py/object": "os.system", "__reduce__": [payload]}
    doc["trials"][1]["error"] = payload
    config, trials = read_json(write_document(tmp_path, doc))
    assert config.name == payload
    assert trials[1].metrics == {"lr": payload, "py/object": "os.system", "__reduce__": [payload]}
    assert trials[1].error == payload
    # Where a name or a value is looked up, code is only an unknown name or a value outside the space.
    doc["study"]["tuner"]["name"] = payload
    with pytest.raises(ExportFormatError, match="'study.tuner' does not make a tuner here: unknown tuner"):
        read_json(write_document(tmp_path, doc))
    doc = document()
    doc["trials"][1]["params"]["lr"] = payload
    with pytest.raises(ExportFormatError, match=r"'trials\[1\]\.params\.lr' must be a value of loguniform"):
        read_json(write_document(tmp_path, doc))
    assert not marker.exists()


def test_an_exported_trial_with_defaults_only_round_trips(tmp_path):
    bare = Trial(number=0, params={"lr": 0.01, "model": {"_name": "linear"}})
    write_json(tmp_path / "bare.json", CONFIG, [bare])
    assert read_json(tmp_path / "bare.json")[1] == [bare]
