"""``%%autotune --config config.yml`` on a real ipykernel: the NNI config's settings, the magic line's
options over them, and the warnings of the fields that are not honoured in the cell's output."""

from __future__ import annotations

import json
import textwrap

import pytest

pytestmark = pytest.mark.timeout(600)


def test_config_file_gives_the_tuner_and_space_and_the_magic_line_overrides_it(notebook):
    (notebook.folder / "space.json").write_text(json.dumps({
        "depth": {"_type": "choice", "_value": [1, 2, 3]},
        "act": {"_type": "choice", "_value": ["relu", "tanh"]},
    }))
    (notebook.folder / "config.yml").write_text(textwrap.dedent("""\
        experimentName: grid
        searchSpaceFile: space.json
        trialCommand: python3 train.py
        maxTrialNumber: 10
        nniManagerIp: 10.0.0.1
        tuner:
          name: GridSearch
          classArgs:
            optimize_mode: minimize
        trainingService:
          platform: local
    """))
    notebook.cell("%load_ext autotune_nb")
    study_cell = notebook.cell(
        "%%autotune --config config.yml --trials 3\n"
        "depth + (0.5 if act == 'tanh' else 0)\n"
    )
    check = notebook.cell(
        "print(len(_study.trials), _study.config.tuner, _study.direction, _study.name.startswith('grid-'), "
        "sorted(_study.space))"
    )
    notebook.execute()
    assert notebook.text(check).strip() == "3 GridSearch minimize True ['act', 'depth']"
    text = notebook.text(study_cell)
    assert "NniConfigWarning: config.yml: nniManagerIp (= '10.0.0.1') is ignored" in text
    assert ": 3 trials (3 succeeded); best 1 with" in text


def test_a_bad_value_in_the_config_is_one_line_naming_the_field(notebook):
    (notebook.folder / "config.yml").write_text("searchSpace: {x: {_type: uniform, _value: [0, 1]}}\n"
                                                "maxTrialNumber: ten\n")
    notebook.cell("%load_ext autotune_nb")
    cell = notebook.cell("%%autotune --config config.yml\nx\n")
    notebook.execute(allow_errors=True)
    text = notebook.text(cell)
    assert "UsageError: config.yml: maxTrialNumber must be an integer >= 1, got 'ten'" in text
