"""The kernel side of the lab's "Tune this cell" form: reading and writing a `%%autotune` line's
options, and the verdict on a line, which must be the magic's own (same message, word for word)."""

from __future__ import annotations

import json

import pytest

from autotune_nb.notebook.line_check import check_line
from autotune_nb.notebook.magic_line import form_fields, with_fields
from autotune_nb.notebook.tune_form import answer

BODY = "x = at.uniform(0, 1)\nk = at.choice([1, 2, 3])\n(x - 0.3) ** 2 + k"


@pytest.fixture
def shell(tmp_path, monkeypatch):
    """A real IPython shell with `%load_ext autotune_nb`, its store in a temporary folder."""
    from IPython.core.interactiveshell import InteractiveShell

    monkeypatch.setenv("AUTOTUNE_NB_STORE", str(tmp_path / "autotune_nb.db"))
    shell = InteractiveShell.instance()
    shell.extension_manager.load_extension("autotune_nb")
    shell.user_ns["ARGS"] = {"population_size": 8}
    shell.user_ns["TRIALS"] = 5
    return shell


def magic_error(shell, line: str, body: str = BODY) -> str:
    """What the magic itself says when the cell ``line`` + ``body`` runs."""
    result = shell.run_cell(f"{line}\n{body}")
    assert result.error_in_exec is not None, f"the magic accepted {line!r}"
    return str(result.error_in_exec)


# --- the line's words -----------------------------------------------------------------------------

def test_form_fields_read_the_line_as_written():
    fields = form_fields("%%autotune --tuner Evolution --tuner-args ARGS --trials=$TRIALS --minimize "
                         "--timeout 1h --gpus 0,1 --name sweep --background")
    assert fields == {"tuner": "Evolution", "tuner_args": "ARGS", "trials": "$TRIALS", "concurrency": "",
                      "gpus": "0,1", "assessor": "", "assessor_args": "", "direction": "minimize", "name": "sweep"}
    assert set(form_fields("")) == set(fields) and not any(form_fields("x = 1").values())


def test_with_fields_edits_in_place_and_keeps_every_other_word():
    line = "%%autotune --timeout 1h --tuner TPE --trials 20 --background --maximize --seed 3"
    written = with_fields(line, {"tuner": "Random", "trials": "", "direction": "minimize", "name": "n1",
                                 "assessor": "Medianstop"})
    assert written == "%%autotune --timeout 1h --tuner Random --background --minimize --seed 3 --assessor Medianstop --name n1"
    assert with_fields("", {"trials": "4", "tuner": "GP"}) == "%%autotune --tuner GP --trials 4"
    # An option given twice is written once, where it first stood.
    assert with_fields("%%autotune --trials 3 --seed 1 --trials 9", {"trials": "5"}) == "%%autotune --trials 5 --seed 1"
    # Options the form does not own are never taken from its fields.
    assert with_fields("%%autotune --seed 1", {"seed": "2"}) == "%%autotune --seed 1"


# --- the verdict: the magic's --------------------------------------------------------------------

def test_a_valid_line_is_accepted_and_nothing_is_stored(shell, tmp_path):
    line = "%%autotune --tuner Evolution --tuner-args ARGS --trials $TRIALS --concurrency 2 --minimize --name ok"
    check = check_line(line, BODY, shell=shell)
    assert check.ok and check.line == line and check.error is None
    assert not (tmp_path / "autotune_nb.db").exists()


@pytest.mark.parametrize("fields, expected", [
    ({"trials": "0"}, "--trials 0 must be at least 1"),
    ({"trials": "abc"}, "argument --trials: invalid int value: 'abc'"),
    ({"concurrency": "x"}, "argument --concurrency: invalid int value: 'x'"),
    ({"tuner": "Nope"}, "unknown tuner 'Nope'"),
    ({"tuner": "Random", "tuner_args": "{bad"}, "--tuner-args '{bad' is not a JSON object"),
    ({"tuner": "Random", "tuner_args": '{"no_such_arg":1}'}, "tuner Random: unknown classArg 'no_such_arg'"),
    ({"tuner": "Evolution", "tuner_args": '{"population_size":0}'}, "population_size must be"),
    ({"concurrency": "2", "gpus": "0"}, "concurrency=2 disagrees with gpus=['0']"),
    ({"gpus": "gpu0"}, "--gpus 'gpu0' is not a list of GPU ids"),
    ({"assessor": "Nope"}, "unknown assessor 'Nope'"),
    ({"assessor": "Medianstop", "assessor_args": '{"start_step":-1}'}, "start_step must be an integer >= 0"),
    ({"direction": "sideways"}, "unrecognized arguments: --sideways"),
    ({"name": "two words"}, "%%autotune: unexpected words 'words' in the magic line"),
])
def test_each_bad_value_gets_the_magics_own_message(shell, fields, expected):
    line = with_fields("%%autotune --trials 3", fields)
    check = check_line(line, BODY, shell=shell)
    assert not check.ok and expected in check.error
    assert check.error == magic_error(shell, line)


def test_the_cell_body_is_checked_as_the_magic_checks_it(shell):
    check = check_line("%%autotune --trials 3", "y = 1\ny", shell=shell)
    assert check.error.startswith("the cell declares no parameter")
    assert check.error == magic_error(shell, "%%autotune --trials 3", "y = 1\ny")
    assert check_line("%%autotune --trials 3", "x = at.uniform(0, 1\nx", shell=shell).error.startswith(
        "SyntaxError in the cell, line 2")


def test_a_shell_without_the_magic_is_told_how_to_load_it(shell):
    shell.extension_manager.unload_extension("autotune_nb")
    try:
        assert check_line("%%autotune --trials 3", BODY, shell=shell).error == (
            "Cell magic `%%autotune` not found: run `%load_ext autotune_nb` first")
    finally:
        shell.extension_manager.load_extension("autotune_nb")


# --- the form's requests --------------------------------------------------------------------------

def test_describe_lists_the_registries_with_their_class_args(shell):
    description = answer(json.dumps({"action": "describe", "line": "%%autotune --tuner Evolution"})).data
    assert description["fields"]["tuner"] == "Evolution"
    assert {"name": "population_size", "default": "32"} in description["tuners"]["Evolution"]["classArgs"]
    assert "Medianstop" in description["assessors"]
    names = {arg["name"] for info in description["tuners"].values() for arg in info.get("classArgs", [])}
    assert not names & {"space", "seed", "optimize_mode"}  # the study fills those


def test_write_answers_with_the_line_or_the_message(shell):
    def write(fields):
        request = {"action": "write", "line": "%%autotune --seed 1", "cell": BODY, "fields": fields}
        return json.loads(json.dumps(answer(json.dumps(request)).data))  # what the form receives

    assert write({"trials": "4"}) == {"ok": True, "line": "%%autotune --seed 1 --trials 4", "message": None}
    refused = write({"trials": "-1"})
    assert refused["ok"] is False and refused["message"] == "--trials -1 must be at least 1"
    with pytest.raises(ValueError, match="unknown request 'run'"):
        answer(json.dumps({"action": "run"}))
