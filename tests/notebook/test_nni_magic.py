"""``%autotune nni config.yml`` on a real ipykernel: the experiment's trial command runs, the dashboard
is under the cell, the line's options win over the file's, and a failed command shows its output."""

from __future__ import annotations

import pytest

from tests.integration.test_nni_command_trials import experiment

pytestmark = pytest.mark.timeout(600)


def test_the_line_magic_runs_the_experiment_with_the_dashboard(notebook):
    config = experiment(notebook.folder, "success", maxTrialNumber=10)
    notebook.cell("%load_ext autotune_nb")
    run = notebook.cell(f"%autotune nni {config} --trials 2 --concurrency 2 --name nb --out found")
    check = notebook.cell("print(found.name, [t.state.value for t in found.trials], all(t.log_path for t in found.trials))")
    notebook.execute()

    text = notebook.text(run)
    assert "study 'nb': 2 trials (2 succeeded" in text
    assert any("application/vnd.jupyter.widget-view+json" in out.get("data", {}) for out in notebook.outputs(run))
    assert notebook.text(check).strip() == "nb ['SUCCEEDED', 'SUCCEEDED'] True"


def test_a_failed_command_shows_its_output_in_the_dashboard_and_options_of_cells_are_refused(notebook):
    config = experiment(notebook.folder, "crash")
    notebook.cell("%load_ext autotune_nb")
    notebook.cell(f"%autotune nni {config} --trials 1 --max-failures 0 --name broken")
    view = notebook.cell(
        "from autotune_nb.notebook.dashboard import Dashboard\n"
        "view = Dashboard(_study)\n"
        "view._failed_select.value = 0\n"
        "print(view._traceback.value)"
    )
    refused = notebook.cell(f"%autotune nni {config} --tuner TPE")
    notebook.execute(allow_errors=True)

    shown = notebook.text(view)
    assert "the command exited with status 1" in shown and "output line 29" in shown
    assert f"full output: {notebook.folder}" in shown and "trial.log" in shown
    assert "UsageError" in notebook.text(refused) and "--tuner is not an option of it" in notebook.text(refused)
