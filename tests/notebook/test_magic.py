"""``%%autotune`` on a real ipykernel, executed through nbclient."""

from __future__ import annotations

import json

import pytest

pytestmark = pytest.mark.timeout(600)

LOAD = "%load_ext autotune_nb"


def test_inline_space_runs_a_study_and_binds_it(notebook):
    notebook.cell(LOAD)
    study_cell = notebook.cell(
        "%%autotune --tuner Random --trials 6 --concurrency 2 --seed 0 --minimize --name quad\n"
        "x = at.uniform(-3, 3)\n"
        "(x - 1) ** 2\n"
    )
    check = notebook.cell("print(len(_study.trials), _study.best_value == min(t.value for t in _study.trials))")
    notebook.execute()
    assert notebook.text(check).split() == ["6", "True"]
    assert "study 'quad': 6 trials (6 succeeded)" in notebook.text(study_cell)


def test_space_file_variables_functions_and_classes_from_earlier_cells(notebook):
    (notebook.folder / "space.json").write_text(json.dumps({
        "depth": {"_type": "randint", "_value": [1, 4]},
        "act": {"_type": "choice", "_value": ["relu", "tanh"]},
    }))
    notebook.cell(LOAD)
    notebook.cell(
        "import numpy as np\n"
        "OFFSET = 10\n"
        "class Model:\n"
        "    def __init__(self, depth, act):\n"
        "        self.depth, self.act = depth, act\n"
        "    def score(self):\n"
        "        return self.depth + (0.5 if self.act == 'tanh' else 0)\n"
        "def build(depth, act):\n"
        "    return Model(depth, act)\n"
    )
    notebook.cell(
        "%%autotune --space space.json --tuner GridSearch --trials 50 --name grid --out grid_study\n"
        "scale = at.choice([1, 2])\n"
        "model = build(depth, act)\n"
        "float(np.float64(model.score() * scale + OFFSET))\n"
    )
    check = notebook.cell(
        "print(len(grid_study.trials), grid_study.best_value, sorted(grid_study.best_params.items()))"
    )
    notebook.execute()
    assert notebook.text(check).strip() == "12 17.0 [('act', 'tanh'), ('depth', 3), ('scale', 2)]"


def test_a_large_array_reaches_the_workers_as_a_memory_map(notebook):
    notebook.cell(LOAD)
    notebook.cell("import numpy as np\nX = np.ones(50 * 2**20 // 8)")
    notebook.cell(
        "%%autotune --tuner Random --trials 4 --concurrency 2 --name big\n"
        "k = at.uniform(0, 1)\n"
        "float(isinstance(X, np.memmap)) + k * 0\n"
    )
    check = notebook.cell("print([t.value for t in _study.trials])")
    notebook.execute()
    assert notebook.text(check).strip() == "[1.0, 1.0, 1.0, 1.0]"


def test_an_unpicklable_variable_is_named_before_any_trial(notebook):
    notebook.cell(LOAD)
    notebook.cell("handle = open('data.txt', 'w')")
    bad = notebook.cell(
        "%%autotune --trials 3 --name bad\n"
        "x = at.uniform(0, 1)\n"
        "handle.write(str(x))\n"
    )
    fixed = notebook.cell(  # nothing of the refused study was stored: the name is still free
        "%%autotune --trials 2 --name bad\n"
        "x = at.uniform(0, 1)\n"
        "with open('data.txt', 'a') as out:\n"
        "    out.write(str(x))\n"
        "x\n"
    )
    notebook.execute(allow_errors=True)
    text = notebook.text(bad)
    assert "UsageError" in text and "variable 'handle'" in text and "TextIOWrapper" in text
    assert "open the file inside the cell" in text
    assert "study 'bad': 2 trials (2 succeeded)" in notebook.text(fixed)


def test_a_trial_error_is_shown_with_the_cell_line(notebook):
    notebook.cell(LOAD)
    notebook.cell(
        "%%autotune --tuner Random --trials 2 --name broken --out broken\n"
        "x = at.uniform(0, 1)\n"
        "y = 1\n"
        "x / (y - 1)\n"
    )
    check = notebook.cell("print(broken.trials[0].state.value); print(broken.trials[0].error)")
    notebook.execute()
    text = notebook.text(check)
    assert text.startswith("FAILED")
    assert "ZeroDivisionError" in text and "line 4" in text and "x / (y - 1)" in text


def test_the_cell_runs_plainly_with_defaults_without_the_magic(notebook):
    notebook.cell(LOAD)
    plain = notebook.cell("lr = at.loguniform(1e-4, 1e-2)\nhidden = at.choice([128, 256], default=256)\nprint(round(lr, 6), hidden)")
    # Imported by name in the cell itself: a declaration all the same, as under %%autotune.
    imported = notebook.cell("from autotune_nb import uniform\nx = uniform(0, 1)\nprint(x)")
    tuned = notebook.cell("%%autotune --trials 2 --name imported\nx = uniform(0, 1)\nx\n")
    notebook.execute()
    assert notebook.text(plain).strip() == "0.001 256"
    assert notebook.text(imported).strip() == "0.5"
    assert "study 'imported': 2 trials (2 succeeded)" in notebook.text(tuned)


def dashboard_states(nb) -> list[str]:
    """The states the dashboards of a run notebook show, from the widget state nbclient saved."""
    models = nb.metadata.get("widgets", {}).get("application/vnd.jupyter.widget-state+json", {}).get("state", {})
    return [model["state"]["value"].split('autotune-state">')[1].split("<")[0] for model in models.values()
            if 'class="autotune-state"' in str(model["state"].get("value", ""))]


def test_show_and_at_dashboard_draw_a_stored_study_in_its_final_state(notebook):
    notebook.cell(LOAD)
    notebook.cell("%%autotune --trials 3 --name shown\nx = at.uniform(0, 1)\nx\n")
    show = notebook.cell("%autotune show shown")
    live = notebook.cell("at.dashboard(_study)")
    notebook.execute()
    assert "application/vnd.jupyter.widget-view+json" in {key for out in notebook.outputs(show) for key in out.data}
    assert "application/vnd.jupyter.widget-view+json" in notebook.outputs(live)[0].data
    assert dashboard_states(notebook.nb) == ["finished"] * 3  # the cell's own, show's and at.dashboard's


def test_background_study_stops_on_request_and_keeps_its_trials(notebook):
    notebook.cell(LOAD)
    notebook.cell(
        "%%autotune --tuner Random --trials 500 --concurrency 2 --background --name bg --out bg\n"
        "import time\n"
        "x = at.uniform(0, 1)\n"
        "time.sleep(0.2)\n"
        "x\n"
    )
    notebook.cell("import time\ntime.sleep(3)\nprint('kernel usable while it runs:', 1 + 1)")
    stop = notebook.cell("%autotune stop bg")
    check = notebook.cell(
        "states = {t.state.value for t in bg.trials}\n"
        "print(len(bg.trials) < 500, states <= {'SUCCEEDED', 'CANCELED'}, "
        "sum(t.state.value == 'SUCCEEDED' for t in bg.trials) >= 3)"
    )
    notebook.execute()
    assert "stopped" in notebook.text(stop)
    assert notebook.text(check).split() == ["True", "True", "True"]


def test_interrupting_the_kernel_keeps_finished_trials(notebook):
    notebook.cell(LOAD)
    notebook.cell(
        "%%autotune --tuner Random --trials 400 --concurrency 2 --name interrupted --out s\n"
        "import time\n"
        "x = at.uniform(0, 1)\n"
        "time.sleep(0.25)\n"
        "x\n"
    )
    check = notebook.cell(
        "states = [t.state.value for t in s.trials]\n"
        "print(states.count('SUCCEEDED') >= 2, set(states) <= {'SUCCEEDED', 'CANCELED'}, len(states) < 400)"
    )
    notebook.execute(timeout=25, interrupt_on_timeout=True, allow_errors=True)
    assert notebook.text(check).split() == ["True", "True", "True"]


def test_export_list_and_import(notebook):
    notebook.cell(LOAD)
    notebook.cell(
        "%%autotune --tuner Random --trials 3 --name exported --seed 1\n"
        "x = at.uniform(0, 1)\n"
        "x\n"
    )
    export = notebook.cell("%autotune export exported study.json")
    listing = notebook.cell("%autotune list")
    taken = notebook.cell("%autotune import study.json")
    imported = notebook.cell("s2 = %autotune import study.json copy\nprint(len(s2.trials), s2.best_value == _study.best_value)")
    listed = notebook.cell("%autotune list")
    missing = notebook.cell("%autotune import missing.json")
    notebook.execute(allow_errors=True)
    document = json.loads((notebook.folder / "study.json").read_text())
    assert document["format"] == "autotune-study" and document["version"] == 1
    assert len(document["trials"]) == 3
    assert "study.json" in notebook.text(export)
    assert "exported" in notebook.text(listing)
    assert "a study named 'exported' is already in" in notebook.text(taken)
    assert notebook.text(imported).split()[-2:] == ["3", "True"]
    assert "copy" in notebook.text(listed) and "exported" in notebook.text(listed)
    # one line naming the file, not a traceback
    assert notebook.text(missing).strip() == "UsageError: [Errno 2] No such file or directory: 'missing.json'"


def test_bad_magic_options_are_one_line_usage_errors(notebook):
    notebook.cell(LOAD)
    bad = [
        notebook.cell("%%autotune --tuner Bayes --trials 2\nx = at.uniform(0, 1)\nx\n"),
        notebook.cell("%%autotune --timeout soon\nx = at.uniform(0, 1)\nx\n"),
        notebook.cell("%%autotune --gpus a,b\nx = at.uniform(0, 1)\nx\n"),
        notebook.cell("%%autotune --tuner-args '{bad json'\nx = at.uniform(0, 1)\nx\n"),
        notebook.cell("%%autotune --concurrency 3 --gpus 0\nx = at.uniform(0, 1)\nx\n"),
    ]
    listing = notebook.cell("%autotune list")
    notebook.execute(allow_errors=True)
    texts = [notebook.text(i) for i in bad]
    assert "unknown tuner 'Bayes'; valid names are" in texts[0]
    assert "--timeout 'soon' is not a duration" in texts[1]
    assert "--gpus 'a,b' is not a list of GPU ids" in texts[2]
    assert "--tuner-args" in texts[3] and "is not a JSON object" in texts[3]
    assert "concurrency=3 disagrees with gpus=['0']" in texts[4]
    assert notebook.text(listing).strip() == "no study in the store yet"  # refused cells store nothing
    assert all(t.startswith("UsageError") for t in texts)


def test_resume_in_a_new_kernel_continues_the_stored_study(notebook, tmp_path):
    cell = "x = at.uniform(0, 1)\nx\n"
    notebook.cell(LOAD)
    notebook.cell("%%autotune --tuner Random --trials 4 --seed 0 --name kept\n" + cell)
    notebook.execute()

    # A fresh kernel: nothing survives but the store file. (The fixture's class: ``from conftest
    # import`` would find tests/browser/conftest.py when both folders run in one session.)
    restarted = type(notebook)(tmp_path)
    restarted.cell(LOAD)
    resumed = restarted.cell("%%autotune --trials 3 --name kept --resume --out kept\n" + cell)
    check = restarted.cell("print(len(kept.trials), [t.number for t in kept.trials], kept.config.tuner)")
    mismatch = restarted.cell("%%autotune --trials 1 --name kept --resume\ny = at.uniform(0, 2)\ny\n")
    restarted.execute(allow_errors=True)
    assert "study 'kept': 4 trials (4 succeeded)" in notebook.text(1)
    assert restarted.text(check).strip() == "7 [0, 1, 2, 3, 4, 5, 6] Random"
    assert "study 'kept': 7 trials (7 succeeded)" in restarted.text(resumed)
    assert "the cell's search space differs from the stored study's" in restarted.text(mismatch)


def test_a_name_already_in_the_store_needs_resume(notebook):
    notebook.cell(LOAD)
    notebook.cell("%%autotune --trials 2 --name twice\nx = at.uniform(0, 1)\nx\n")
    again = notebook.cell("%%autotune --trials 2 --name twice\nx = at.uniform(0, 1)\nx\n")
    notebook.execute(allow_errors=True)
    text = notebook.text(again)
    assert text.startswith("UsageError") and "'twice' is already in" in text


def test_a_syntax_error_names_the_cell_line_without_the_magic_internals(notebook):
    notebook.cell(LOAD)
    bad = notebook.cell("%%autotune --trials 2\nx = at.uniform(0, 1)\ny = 2 +\nx\n")
    notebook.execute(allow_errors=True)
    text = notebook.text(bad)
    assert text.startswith("SyntaxError: invalid syntax (<autotune cell>, line 3)")
    assert "y = 2 +" in text
    assert "magic.py" not in text and "_run_cell" not in text


def test_a_study_whose_first_trials_failed_resumes_and_a_live_one_is_not_resumed_twice(notebook):
    notebook.cell(LOAD)
    notebook.cell("import time\nimport autotune_nb as at")
    broken = notebook.cell(
        "%%autotune --tuner Random --trials 6 --max-failures 2 --name flaky\n"
        "x = at.uniform(0, 1)\n"
        "1 / 0\n"
    )
    fixed = notebook.cell(
        "%%autotune --tuner Random --trials 3 --name flaky --resume\n"
        "x = at.uniform(0, 1)\n"
        "x\n"
    )
    notebook.cell(
        "%%autotune --tuner Random --trials 50 --name flaky --resume --background\n"
        "x = at.uniform(0, 1)\n"
        "time.sleep(0.2) or x\n"
    )
    twice = notebook.cell(
        "time.sleep(1)\n"
        "try:\n"
        "    at.Study.load('flaky').resume(lambda p: 0.0, max_trials=1, executor='inline')\n"
        "except at.errors.StudyBusyError as exc:\n"
        "    print(type(exc).__name__, 'is running in process' in str(exc))\n"
    )
    notebook.cell("%autotune stop flaky")
    check = notebook.cell(
        "numbers = [t.number for t in _study.trials]\n"
        "print([t.state.value for t in _study.trials][:5], numbers == sorted(set(numbers)))"
    )
    notebook.execute()
    assert "study 'flaky': 2 trials (2 failed)" in notebook.text(broken)
    assert "3 succeeded" in notebook.text(fixed)
    assert notebook.text(twice).strip() == "StudyBusyError True"
    assert notebook.text(check).strip() == "['FAILED', 'FAILED', 'SUCCEEDED', 'SUCCEEDED', 'SUCCEEDED'] True"
