"""What a person sees: the quickstart notebook run in JupyterLab, in chromium, with its live dashboard."""

from __future__ import annotations

import os
import pathlib
import re
import shutil

import nbformat
import pytest

EXAMPLE = pathlib.Path(__file__).parents[2] / "examples" / "01_quickstart.ipynb"
QUICK_TRIALS = 8  # 01_quickstart.ipynb runs 8 trials when AUTOTUNE_QUICK=1 (the lab fixture sets it)

pytestmark = pytest.mark.timeout(600)


def open_notebook(lab, page, notebook: str) -> None:
    """Open ``notebook`` (in the lab's root) in its own workspace and wait until its kernel is idle."""
    page.goto(lab.url(f"/lab/workspaces/{notebook.split('.')[0]}-{os.getpid()}/tree/{notebook}"))
    page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=120_000)
    page.wait_for_function("window.jupyterapp && window.jupyterapp.shell", timeout=60_000)
    # The toolbar reads "Idle" before the kernel exists: wait for the status bar's kernel name too.
    page.wait_for_function(
        "() => /\\|\\s*Idle/.test(document.querySelector('#jp-main-statusbar')?.innerText || '')",
        timeout=120_000,
    )


def run_all_cells(lab, page, notebook: str, *, wait: bool = True) -> None:
    """Open ``notebook`` and run all its cells; with ``wait``, return when they have run, else at once
    (to act on the page while they run)."""
    open_notebook(lab, page, notebook)
    run_all = "window.jupyterapp.commands.execute('notebook:run-all-cells')"
    page.evaluate(run_all if wait else f"() => {{ {run_all}; }}")


def test_quickstart_dashboard_renders_live_in_jupyterlab(lab, page, screenshot):
    shutil.copy(EXAMPLE, lab.root / EXAMPLE.name)
    run_all_cells(lab, page, EXAMPLE.name)

    dashboard = page.wait_for_selector(".autotune-dashboard", timeout=120_000)
    page.wait_for_function(
        f"() => (document.querySelector('.autotune-progress-text')?.innerText || '').startsWith('{QUICK_TRIALS} / {QUICK_TRIALS} trials')",
        timeout=300_000,
    )
    page.wait_for_function("() => document.querySelectorAll('.jp-Cell .jp-InputPrompt').length > 0 && "
                           "![...document.querySelectorAll('.jp-InputPrompt')].some(p => p.innerText.includes('[*]'))",
                           timeout=300_000)

    progress = page.query_selector(".autotune-progress .widget-hprogress, .autotune-progress")
    assert progress is not None
    counts = page.inner_text(".autotune-counts")
    assert re.search(rf"succeeded {QUICK_TRIALS}\b", counts), counts
    best = page.inner_text(".autotune-best")
    assert "C" in best and "gamma" in best  # the best configuration is shown
    dots = page.query_selector_all(".autotune-dashboard .autotune-results-chart path.dot")
    assert len(dots) == QUICK_TRIALS  # one point per trial
    assert page.query_selector_all(".autotune-parallel-chart path.curve, .autotune-parallel-chart .line")
    rows = page.query_selector_all(".autotune-dashboard .autotune-table tbody tr")
    assert 1 <= len(rows) <= QUICK_TRIALS
    # The static view for saved notebooks is in the output too, escaped HTML without scripts.
    assert page.query_selector(".jp-OutputArea-output table")
    screenshot(dashboard, "quickstart_dashboard.png")


def test_a_dashboard_shown_in_another_cell_follows_a_study_to_its_end(lab, page, screenshot):
    """A study run by a thread of one cell, its dashboard displayed by the next: the person sees the
    trials arrive and, when the run ends, the header say "finished" (no cell calls anything)."""
    nb = nbformat.v4.new_notebook(metadata={"kernelspec": {"name": "python3", "display_name": "Python 3",
                                                           "language": "python"}})
    nb.cells = [nbformat.v4.new_code_cell(source) for source in (
        "import threading, time\nimport autotune_nb as at",
        "study = at.Study({'x': at.uniform(0, 1)}, tuner='Random', seed=0, storage=None, name='elsewhere')\n"
        "runner = threading.Thread(target=study.run, args=(lambda p: time.sleep(0.4) or p['x'],),\n"
        "                          kwargs={'max_trials': 10, 'executor': 'inline'})\n"
        "runner.start()",
        "at.dashboard(study, total=10)",
    )]
    nbformat.write(nb, lab.root / "elsewhere.ipynb")
    run_all_cells(lab, page, "elsewhere.ipynb")

    dashboard = page.wait_for_selector(".autotune-dashboard", timeout=120_000)
    assert page.inner_text(".autotune-dashboard .autotune-state") == "running"
    page.wait_for_function(
        "() => (document.querySelector('.autotune-dashboard .autotune-state')?.innerText || '') === 'finished'",
        timeout=120_000,
    )
    assert page.inner_text(".autotune-progress-text").startswith("10 / 10 trials")
    assert re.search(r"succeeded 10\b", page.inner_text(".autotune-counts"))
    screenshot(dashboard, "dashboard_of_a_study_run_elsewhere.png")
