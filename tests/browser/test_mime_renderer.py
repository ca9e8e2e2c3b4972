"""A saved notebook reopened in JupyterLab: the autotune_nb extension draws the study from the
output's `application/vnd.autotune.study+json` alone, with no cell run, and every user string stays text."""

from __future__ import annotations

import os
import pathlib

import nbformat
import pytest

import autotune_nb as at
from autotune_nb.views.static import MIME_TYPE, study_mimebundle

pytestmark = pytest.mark.timeout(300)

SCRIPT_PARAM = "<script>alert(1)</script>"
IMG_VALUE = "<img src=x onerror=window.__autotune_xss=1>"
TRIALS = 16


def _objective(params: dict) -> float:
    if params[SCRIPT_PARAM] == "boom":
        raise ValueError("boom")
    return -abs(params["lr"] - 0.01)


def _finished_study_bundle() -> tuple[dict, int, int]:
    """The bundle of a small finished study, its number of succeeded and of failed trials."""
    space = {
        SCRIPT_PARAM: {"_type": "choice", "_value": ["plain", IMG_VALUE, "boom"]},
        "lr": {"_type": "loguniform", "_value": [1e-4, 1e-1]},
    }
    study = at.Study(space, tuner="Random", seed=3, storage=None, name="<b>escaped-study</b>")
    study.run(_objective, max_trials=TRIALS, executor="inline")
    counts = study.counts()
    return study_mimebundle(study.config, study.trials, study.state), counts["SUCCEEDED"], counts["FAILED"]


def _saved_notebook(path: pathlib.Path, bundle: dict) -> None:
    """Two cells with saved outputs: the study, and a document from a newer format version."""
    newer = {**bundle[MIME_TYPE], "version": 99}
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell("study", execution_count=1, outputs=[
            nbformat.v4.new_output("execute_result", data=bundle, execution_count=1)]),
        nbformat.v4.new_code_cell("newer", execution_count=2, outputs=[
            nbformat.v4.new_output("execute_result", data={MIME_TYPE: newer, "text/plain": "newer"},
                                   execution_count=2)]),
    ]
    nbformat.write(nb, path)


def test_saved_study_renders_without_running_a_cell(lab, page, screenshot):
    bundle, succeeded, failed = _finished_study_bundle()
    assert succeeded > 10 and failed > 0  # the table is cut at 10; failed trials plot no point
    _saved_notebook(lab.root / "saved_study.ipynb", bundle)

    page.goto(lab.url(f"/lab/workspaces/mime-{os.getpid()}/tree/saved_study.ipynb"))
    view = page.wait_for_selector(".jp-OutputArea-output .autotune-lab-study", timeout=120_000)
    # The notebook names no kernel: JupyterLab asks for one, and we decline.
    page.click(".jp-Dialog button:has-text('No Kernel')", timeout=60_000)
    page.wait_for_selector(".jp-Dialog", state="detached", timeout=30_000)

    # The extension wins over the text/html fallback, which is not drawn at all.
    assert page.query_selector(".autotune-static") is None
    assert page.inner_text(".autotune-lab-name") == "<b>escaped-study</b>"
    header = page.inner_text(".autotune-lab-header")
    assert "tuner Random" in header and "maximize" in header and "finished" in header
    assert f"succeeded {succeeded}" in page.inner_text(".autotune-lab-counts")
    assert page.query_selector_all(".autotune-lab-progress > div")  # the bar split by state
    assert "trial" in page.inner_text(".autotune-lab-best") and "lr" in page.inner_text(".autotune-lab-best-params")

    assert len(page.query_selector_all(".autotune-lab-table tbody tr")) == 10
    headings = [th.inner_text() for th in page.query_selector_all(".autotune-lab-table thead th")]
    assert headings == ["#", "result", SCRIPT_PARAM, "lr", "state", "duration", "GPU"]
    assert len(page.query_selector_all("svg.autotune-lab-chart circle.autotune-lab-point")) == succeeded
    assert page.query_selector("svg.autotune-lab-chart polyline.autotune-lab-best-line")

    # User strings are text: nothing was injected, nothing ran.
    assert page.query_selector_all(".autotune-lab-study script, .autotune-lab-study img, .autotune-lab-study b.autotune-lab-name b") == []
    assert page.evaluate("window.__autotune_xss") is None
    assert SCRIPT_PARAM in page.inner_text(".autotune-lab-best-params")
    assert IMG_VALUE in page.inner_text(".autotune-lab-table")  # seed 3 puts it among the top 10

    newer = page.wait_for_selector(".autotune-lab-error", timeout=30_000)
    assert "newer autotune_nb (format version 99)" in newer.inner_text()

    screenshot(view, "saved_study_mime_renderer.png")


def test_a_large_saved_study_shows_that_it_holds_a_sample_and_counts_every_trial(lab, page, screenshot):
    """A study of more trials than a saved notebook keeps: the view says so, and its counts and best are
    the whole study's, not the sample's."""
    study = at.Study({"x": at.uniform(0, 1)}, tuner="Random", seed=5, storage=None, name="large-study")
    study.run(lambda params: params["x"], max_trials=400, executor="inline")
    bundle = study_mimebundle(study.config, study.trials, study.state)
    document = bundle[MIME_TYPE]
    assert document["trials_total"] == 400 and len(document["trials"]) < 400
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("study", execution_count=1, outputs=[
        nbformat.v4.new_output("execute_result", data=bundle, execution_count=1)])]
    nbformat.write(nb, lab.root / "large_study.ipynb")

    page.goto(lab.url(f"/lab/workspaces/large-{os.getpid()}/tree/large_study.ipynb"))
    view = page.wait_for_selector(".jp-OutputArea-output .autotune-lab-study", timeout=120_000)
    page.click(".jp-Dialog button:has-text('No Kernel')", timeout=60_000)
    page.wait_for_selector(".jp-Dialog", state="detached", timeout=30_000)

    note = page.inner_text(".autotune-lab-note")
    assert f"{len(document['trials'])} of 400 trials" in note and "%autotune export" in note
    assert "succeeded 400" in page.inner_text(".autotune-lab-counts")
    assert f"{study.best_value:.4g}"[:5] in page.inner_text(".autotune-lab-best")
    points = page.query_selector_all("svg.autotune-lab-chart circle.autotune-lab-point")
    assert len(points) == len(document["trials"])
    screenshot(view, "large_study_capped.png")


def test_a_saved_hyperband_study_shows_each_trial_s_lineage(lab, page):
    """The renderer words a trial's ``directives`` (bracket, rung, budget, the trial it started from) as
    the static view does (views/lineage.py), in a lineage column that only a schedule's study has."""
    from autotune_nb.views.lineage import lineage_label

    study = at.Study({"q": at.uniform(0, 1)}, tuner="Hyperband", tuner_args={"R": 9, "eta": 3, "exec_mode": "serial"},
                     seed=0, storage=None, name="hyperband-study")
    study.run(lambda params: params["q"], max_trials=13, executor="inline")  # bracket 0: 9 + 3 + 1 trials
    expected = {trial.number: lineage_label(trial.directives) for trial in study.trials}
    assert any("from #" in label for label in expected.values())
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("study", execution_count=1, outputs=[
        nbformat.v4.new_output("execute_result", data=study_mimebundle(study.config, study.trials, study.state),
                               execution_count=1)])]
    nbformat.write(nb, lab.root / "hyperband_study.ipynb")

    page.goto(lab.url(f"/lab/workspaces/lineage-{os.getpid()}/tree/hyperband_study.ipynb"))
    page.wait_for_selector(".jp-OutputArea-output .autotune-lab-study", timeout=120_000)
    page.click(".jp-Dialog button:has-text('No Kernel')", timeout=60_000)
    page.wait_for_selector(".jp-Dialog", state="detached", timeout=30_000)

    headings = [th.inner_text() for th in page.query_selector_all(".autotune-lab-table thead th")]
    assert headings[-1] == "lineage"
    rows = [[td.inner_text() for td in tr.query_selector_all("td")]
            for tr in page.query_selector_all(".autotune-lab-table tbody tr")]
    assert len(rows) == 10
    assert {int(row[0]): row[-1] for row in rows} == {int(row[0]): expected[int(row[0])] for row in rows}
    assert any("from #" in row[-1] for row in rows)  # a promotion among the best: rung 1 and 2 rerun the best
