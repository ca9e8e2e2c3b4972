"""What colour-blind readers and screen readers get: one colour-blind-safe palette for the live and the
static views, charts named and labelled in text; and a blocking cell outside a kernel runs as before."""

from __future__ import annotations

import pathlib
import re
import threading
import xml.etree.ElementTree as ElementTree

import pytest

import autotune_nb as at
from autotune_nb import TrialState
from autotune_nb.notebook.cell_wait import run_in_cell, widget_messages_heard
from autotune_nb.notebook.dashboard import Dashboard
from autotune_nb.views import palette
from autotune_nb.views.static import study_mimebundle

SVG = "{http://www.w3.org/2000/svg}"


def finished_study() -> at.Study:
    study = at.Study({"x": at.uniform(-5, 5)}, tuner="Random", direction="minimize", seed=4, storage=None)
    return study.run(lambda p: (p["x"] - 1) ** 2, max_trials=8, executor="inline")


def test_each_state_has_its_own_colour_and_the_coloured_ones_are_okabe_ito():
    colours = list(palette.STATE_COLORS.values())
    assert len(set(colours)) == len(colours)
    greys = {palette.STATE_COLORS[TrialState.WAITING], palette.STATE_COLORS[TrialState.CANCELED]}
    assert set(colours) - greys <= set(palette.CATEGORICAL)
    assert [palette.series_color(i) for i in (0, len(palette.CATEGORICAL))] == [palette.BLUE, palette.BLUE]


def test_the_static_chart_is_an_image_with_a_name_a_title_and_both_axis_labels():
    study = finished_study()
    html = study_mimebundle(study.config, study.trials, "finished")["text/html"]
    svg = ElementTree.fromstring(html[html.index('<svg class="autotune-chart"'):html.index("</svg>") + 6])
    assert svg.get("role") == "img"
    assert "result per trial" in svg.get("aria-label") and "trial number across" in svg.get("aria-label")
    assert "result per trial" in svg.find(f"{SVG}title").text
    assert {"trial", "result"} <= {text.text for text in svg.iter(f"{SVG}text")}
    assert palette.STATE_COLORS[TrialState.SUCCEEDED] in html  # drawn with the shared palette


def test_the_live_charts_have_titles_labelled_axes_and_the_shared_colours():
    view = Dashboard(finished_study())
    view.finish()
    for figure in (view._results_figure, view._curves_figure):
        assert figure.title and all(axis.label for axis in figure.axes)
    assert view._state_marks[TrialState.FAILED].colors == [palette.STATE_COLORS[TrialState.FAILED]]
    assert view._best_line.colors == [palette.BEST_LINE]
    view.close()


def test_outside_a_kernel_a_blocking_run_stays_in_the_cells_thread_and_raises_as_before():
    assert not widget_messages_heard()
    threads = []
    run_in_cell(lambda: threads.append(threading.current_thread()), on_interrupt=lambda: None)
    assert threads == [threading.current_thread()]
    with pytest.raises(ValueError, match="bad"):
        run_in_cell(lambda: (_ for _ in ()).throw(ValueError("bad")), on_interrupt=lambda: None)


def test_the_lab_renderers_colours_are_the_palettes():
    """labextension/src/index.ts draws the static view in JupyterLab with a copy of the state colours."""
    source = (pathlib.Path(__file__).parents[2] / "labextension" / "src" / "index.ts").read_text()
    copied = dict(re.findall(r"\['([A-Z_]+)', '(#[0-9a-f]{6})'\]", source))
    assert copied == {state.value: colour for state, colour in palette.STATE_COLORS.items()}
