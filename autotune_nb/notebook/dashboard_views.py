"""The dashboard's views that answer "which setting matters": parallel coordinates with each axis
in its parameter's units, parameter importance, and a slice plot per parameter.

``notebook/dashboard.py`` composes them: each view owns its widgets, lists in ``synced`` the ones
a refresh changes (the dashboard holds their sync so that each sends one message per refresh) and
draws a record of ``views.charts`` / ``views.importance``. Importance and slices describe the
shape of the study rather than its progress, so ``AnalysisViews`` recomputes them, over a sample
of at most ``ANALYSIS_TRIALS`` trials, at most every ``ANALYSIS_INTERVAL`` seconds while the study
runs (less often where that would take more than ``ANALYSIS_SHARE`` of the time), and once more
when it ends.

Every axis draws positions on [0, 1] (the unit-cube coordinates) and labels them with the
parameter's own values (``charts.Axis``): log types show powers of ten evenly spaced, choices
their options. bqplot looks a tick's label up by the JavaScript text of its value, so the tick
positions sent are rounded (``_tick_key``).
"""

from __future__ import annotations

import time
from typing import Sequence

import bqplot
import ipywidgets as widgets
import numpy as np

from ..space import SearchSpace
from ..views import charts
from ..views.importance import Importance, importance_of
from ..views.palette import RESULT, RESULT_SCHEME
from ..views.static import importance_html
from ..vocabulary import Direction

#: The shortest time between two computations of importance and slices while a study runs, in seconds.
ANALYSIS_INTERVAL = 5.0
#: The most of the kernel's time they may take while a study runs: a computation that took t seconds
#: is followed by none for t / ANALYSIS_SHARE seconds (at least ANALYSIS_INTERVAL).
ANALYSIS_SHARE = 0.05
#: Importance and slices in the dashboard use a sample of at most about this many trials
#: (``charts.sample_by_number``; ``at.importance`` uses all): enough for a ranking and a scatter, and
#: each trial is encoded once however long the study.
ANALYSIS_TRIALS = 500
_MARGIN = dict(top=40, bottom=40, left=60, right=30)


def _tick_key(position: float) -> str:
    """A position as JavaScript's ``String(number)`` writes it (what bqplot's tick labels are keyed by)."""
    return str(int(position)) if position == int(position) else repr(position)


def _ticks(axis: charts.Axis) -> tuple[np.ndarray, dict[str, str]]:
    positions = [round(p, 4) for p in axis.ticks]
    return np.array(positions, dtype=float), {_tick_key(p): label for p, label in zip(positions, axis.tick_labels)}


class ParallelView:
    """bqplot has no parallel-coordinates mark: one Lines mark, one line per trial over axes at
    x = 0, 1, ..., each axis a vertical bqplot Axis placed at its x, coloured by the result.

    A line's colour is its height on the result axis (a fixed [0, 1] colour scale), so that axis, in
    the result's units, is the colour's legend too: a refresh sends the lines and that axis, and no
    colour-scale message.
    """

    def __init__(self, space: SearchSpace, direction: Direction | str):
        axes = (*charts.space_axes(space), charts.result_axis(None))
        positions = np.arange(len(axes), dtype=float)
        x_scale = bqplot.LinearScale(min=-0.3, max=positions[-1] + 0.3)
        y_scale = bqplot.LinearScale(min=0.0, max=1.0)
        scales = {"x": x_scale, "y": y_scale}
        # The best results are bright: the scale runs the other way when lower is better.
        colors = bqplot.ColorScale(scheme=RESULT_SCHEME, reverse=Direction(direction).sign < 0, min=0.0, max=1.0)
        guides = bqplot.Lines(x=np.repeat(positions[:, None], 2, axis=1), y=np.tile([0.0, 1.0], (len(axes), 1)),
                              scales=scales, colors=["#bbbbbb"], stroke_width=1)
        self.lines = bqplot.Lines(x=positions, y=[], color=[], scales={**scales, "color": colors},
                                  stroke_width=1, opacities=[0.7])
        self.axes = [self._vertical_axis(axis, y_scale, x_scale, x) for axis, x in zip(axes, positions)]
        names = bqplot.Axis(scale=x_scale, tick_values=positions, grid_lines="none",
                            tick_labels={str(i): axis.label for i, axis in enumerate(axes)})
        self.figure = bqplot.Figure(
            title=f"Hyperparameters and result (up to the best {charts.MAX_LINES} trials)", marks=[guides, self.lines],
            axes=[names, *self.axes],
            animation_duration=0, fig_margin=_MARGIN, layout=widgets.Layout(width="100%", height="320px"),
        ).add_class("autotune-parallel-chart")
        self.synced = [self.lines, self.axes[-1]]

    @staticmethod
    def _vertical_axis(axis: charts.Axis, y_scale, x_scale, x: float) -> bqplot.Axis:
        values, labels = _ticks(axis)
        return bqplot.Axis(scale=y_scale, side="left", grid_lines="none",
                           offset={"scale": x_scale, "value": float(x)}, tick_values=values, tick_labels=labels)

    def draw(self, chart: charts.ParallelChart, set_arrays) -> None:
        """``set_arrays(mark, **arrays)``: the dashboard's setter that skips arrays equal to the last sent."""
        set_arrays(self.lines, y=chart.coordinates, color=chart.coordinates[:, -1])
        values, labels = _ticks(chart.axes[-1])
        set_arrays(self.axes[-1], tick_values=values)
        if self.axes[-1].tick_labels != labels:
            self.axes[-1].tick_labels = labels


class SliceView:
    """The result against one parameter at a time, chosen in a drop-down: one Scatter over the
    parameter's axis. The drop-down lists the most important first once importance is known, and
    shows it until the person picks another."""

    def __init__(self, space: SearchSpace):
        self._axes = {axis.label: axis for axis in charts.space_axes(space)}
        self._chart: charts.SliceChart | None = None
        self.select = widgets.Dropdown(options=list(self._axes), description="Slice").add_class("autotune-slice-select")
        self._picked = False  # the person chose a parameter: keep it
        self._reordering = False
        self.select.observe(self._on_pick, names="value")
        x_scale, y_scale = bqplot.LinearScale(min=-0.02, max=1.02), bqplot.LinearScale()
        self.points = bqplot.Scatter(x=[], y=[], scales={"x": x_scale, "y": y_scale}, colors=[RESULT],
                                     default_size=16, opacities=[0.6])
        first = self.select.value  # its axis from the start: drawing it sends none
        values, labels = _ticks(self._axes[first])
        self.x_axis = bqplot.Axis(scale=x_scale, label=first, tick_values=values, tick_labels=labels, grid_lines="none")
        y_axis = bqplot.Axis(scale=y_scale, side="left", label="result")
        self.figure = bqplot.Figure(title="Result per parameter value", marks=[self.points], axes=[self.x_axis, y_axis],
                                    animation_duration=0, fig_margin=_MARGIN,
                                    layout=widgets.Layout(width="100%", height="300px")).add_class("autotune-slice-chart")
        self.widget = widgets.VBox([self.select, self.figure], layout=widgets.Layout(width="50%"))
        self.synced = [self.select, self.points, self.x_axis]

    def order_by(self, names: Sequence[str]) -> None:
        """List the parameters in this order (the most important first), keeping the one chosen."""
        options = [name for name in names if name in self._axes]
        options += [name for name in self._axes if name not in options]
        if list(self.select.options) != options:
            shown = self.select.value if self._picked else options[0]
            self._reordering = True
            try:
                self.select.options = options
                self.select.value = shown
            finally:
                self._reordering = False

    def _on_pick(self, _change: dict) -> None:
        if not self._reordering:
            self._picked = True
            self._draw_selected()

    def draw(self, chart: charts.SliceChart) -> None:
        self._chart = chart
        self._draw_selected()

    def _draw_selected(self) -> None:
        name = self.select.value
        if self._chart is None or name is None:
            return
        column = list(self._axes).index(name)
        x = self._chart.coordinates[:, column]
        active = np.isfinite(x)
        self.points.x, self.points.y = x[active].astype(np.float32), self._chart.values[active].astype(np.float32)
        # The axis names the parameter (the title stays, and the importance panel says how many
        # trials): a refresh sends the points, and one axis message when the parameter changes.
        if self.x_axis.label != name:
            values, labels = _ticks(self._axes[name])
            self.x_axis.label, self.x_axis.tick_values, self.x_axis.tick_labels = name, values, labels


class AnalysisViews:
    """Importance (an HTML list of bars) and the slice plot, side by side; recomputed on the
    schedule the module's doc describes, and on the final draw."""

    def __init__(self, space: SearchSpace, direction: Direction | str, encoder: charts.CachedEncoder):
        self.space, self.direction, self.encoder = space, direction, encoder
        self.importance = widgets.HTML(importance_html(None)).add_class("autotune-importance")
        self.importance.layout.width = "50%"
        self.slices = SliceView(space)
        self.widget = widgets.HBox([self.importance, self.slices.widget]).add_class("autotune-analysis")
        self.synced = [self.importance, *self.slices.synced]
        self._due = -np.inf  # time.monotonic() of the next computation while the study runs
        self.computed: Importance | None = None

    def draw(self, columns: charts.Columns, final: bool) -> None:
        started = time.monotonic()
        if not final and started < self._due:
            return
        self.computed = importance_of(columns, self.direction, self.space, self.encoder,
                                      max_trials=ANALYSIS_TRIALS)
        self.importance.value = importance_html(self.computed)
        if self.computed is not None:
            self.slices.order_by(self.computed.names)
        self.slices.draw(charts.slice_chart(columns, self.space, ANALYSIS_TRIALS, self.encoder))
        cost = time.monotonic() - started
        self._due = started + max(ANALYSIS_INTERVAL, cost / ANALYSIS_SHARE)
