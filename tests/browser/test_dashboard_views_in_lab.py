"""What a person sees of the views that answer "which setting matters": importance, the slice plot and
parallel axes in the parameters' units, and no intermediate-results chart when no trial reports."""

from __future__ import annotations

import nbformat
import pytest

from test_dashboard_in_lab import run_all_cells

pytestmark = pytest.mark.timeout(600)


def test_the_dashboard_shows_importance_and_slices_and_hides_the_empty_curves_chart(lab, page, screenshot):
    nb = nbformat.v4.new_notebook(metadata={"kernelspec": {"name": "python3", "display_name": "Python 3",
                                                           "language": "python"}})
    nb.cells = [nbformat.v4.new_code_cell(source) for source in (
        "import autotune_nb as at",
        "space = {'x': at.uniform(-5, 5), 'act': at.choice(['relu', 'tanh', 'gelu']),\n"
        "         'lr': at.loguniform(1e-4, 1.0), 'noise': at.uniform(0, 1)}\n"
        "study = at.Study(space, tuner='Random', direction='minimize', seed=3, storage=None, name='views')\n"
        "study.run(lambda p: (p['x'] - 1) ** 2 + {'relu': 0, 'tanh': 5, 'gelu': 10}[p['act']],\n"
        "          max_trials=60, executor='inline')",
        "at.dashboard(study)",
    )]
    nbformat.write(nb, lab.root / "views.ipynb")
    run_all_cells(lab, page, "views.ipynb")

    dashboard = page.wait_for_selector(".autotune-dashboard", timeout=120_000)
    page.wait_for_selector(".autotune-importance-table", timeout=60_000)
    ranked = [cell.inner_text() for cell in page.query_selector_all(".autotune-importance-table th")]
    assert len(ranked) == 4 and set(ranked[:2]) == {"x", "act"}, ranked

    page.wait_for_function("() => document.querySelectorAll('.autotune-slice-chart path.dot').length === 60",
                           timeout=60_000)
    slice_labels = [t.text_content() for t in page.query_selector_all(".autotune-slice-chart .axislabel")]
    assert ranked[0] in slice_labels, slice_labels  # the slice of the most important parameter first
    parallel_ticks = {t.text_content() for t in page.query_selector_all(".autotune-parallel-chart .tick text")}
    assert {"0.0001", "0.001", "0.01", "0.1", "relu", "tanh", "gelu"} <= parallel_ticks, parallel_ticks

    assert not page.is_visible(".autotune-curves-chart")  # no trial reported
    assert page.is_visible(".autotune-results-chart")
    screenshot(dashboard, "dashboard_importance_and_slices.png")
