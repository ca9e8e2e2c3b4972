"""The live dashboard shown under a ``%%autotune`` cell: ipywidgets for the text, bqplot for the charts.

The study publishes an event on every trial change, possibly thousands a second. The dashboard
never draws per event: an event only marks it dirty and arms a timer, and the timer's refresh
takes one snapshot of the trials, turns it into chart records (``views.charts.build``, the pure
data step) and sets the widgets under ``hold_sync`` so each changed widget sends one message per
refresh. A refresh begins at least ``refresh_interval`` after the previous one ended (2 a second
by default) and no timer is armed while one draws, so a slow refresh (a big study on a loaded
machine) lowers the rate instead of queueing refreshes; a trailing one always follows the last event, and while trials run a heartbeat refresh once a second moves the
clock (elapsed time, ETA). ``finish()`` stops the timers and draws the final state.

Refreshes run on those timer threads, never on the kernel's event loop: ipykernel sends a widget
message from any thread through its iopub thread, so the dashboard stays live while another cell
keeps the kernel busy (``tests/browser/test_dashboard_drive.py``).

No widget is made per trial: the table is one HTML widget of the top rows, each chart a fixed set
of marks whose arrays are replaced, and the chart data are capped (``charts.build``).

The dashboard reads the study through ``StudyView`` (``views/study_view.py``) and never drives it:
Stop calls the ``stop`` callable it was given, if any. Its life has one sequence, whoever shows it:
``dashboard(study)`` draws a study as it stands (``at.dashboard``, ``%autotune show``), and
``with view.following(): run()`` follows a run and then draws the state the study ended in (the
``%%autotune`` cell, blocking or from its background thread).
"""

from __future__ import annotations

import contextlib
import html
import math
import os
import re
import threading
import time
from typing import TYPE_CHECKING, Any, Callable, Iterator

import bqplot
import ipywidgets as widgets
import numpy as np

from ..trial import TrialState
from ..views import charts
from ..views.charts import FINISHED_STATES, format_duration, state_label
from ..views.palette import BEST_LINE, RESULT, STATE_COLORS
from ..views.static import best_html, counts_html, failures_table_html, header_html, legend_html, trials_table_html
from ..views.study_view import StudyView
from ..vocabulary import StudyState
from .dashboard_views import AnalysisViews, ParallelView

if TYPE_CHECKING:
    from ..study import TrialEvent

_BAR_STYLES = {
    StudyState.RUNNING: "info",
    StudyState.FINISHED: "success",
    StudyState.STOPPED: "warning",
    StudyState.FAILED: "danger",
}
_NO_SELECTION = ("choose a failed trial", -1)
_BLOCKING_NOTE = (
    "This kernel handles no click while the cell runs (it needs ipykernel 7): interrupt the kernel "
    "(■, or I I) to stop the study, or run it with --background."
)


def dashboard(study: StudyView, total: int | None = None) -> "Dashboard":
    """A dashboard of ``study`` as it stands: following it while it runs, or until its first run ends
    if it has never run (shown in one plain cell, run in the next, in the same cell or from a thread),
    else drawing the state its last run ended in. ``total``: the trials the run makes, for the
    progress bar and the ETA (default: the trials it has). ``at.dashboard(study)``; ``%autotune show
    NAME`` displays one."""
    view = Dashboard(study, total=total or len(study.trials) or None)
    if study.state in (None, StudyState.RUNNING):
        return view.attach()
    view.finish()
    return view


class Dashboard:
    """The live view of a study.

    Args:
        study: the study to show.
        total: the number of trials the run will make (``max_trials``), for the progress bar and
            the ETA; None when unknown.
        stop: what the Stop button calls (``study.stop``; the magic gives it for a background run,
            and for a blocking cell where ``cell_wait`` hears clicks while it runs); None disables
            it: the kernel's interrupt is then the way to stop, and the dashboard says so.
        refresh_interval: the shortest time between two refreshes, in seconds.
        export_dir: where the Export button writes; the kernel's working folder (the notebook's
            folder under Jupyter) when None.

    Example:
        >>> view = Dashboard(study, total=30)               # doctest: +SKIP
        >>> with view.following():                          # doctest: +SKIP
        ...     study.run(objective, max_trials=30)
    """

    HEARTBEAT = 1.0

    def __init__(
        self,
        study: StudyView,
        total: int | None = None,
        *,
        stop: Callable[[], None] | None = None,
        refresh_interval: float = 0.5,
        top_n: int = 10,
        export_dir: str | None = None,
    ):
        self.study = study
        self.total = total
        self._stop = stop
        self.refresh_interval = refresh_interval
        self.top_n = top_n
        self.export_dir = export_dir
        self.state = StudyState.RUNNING
        self.refresh_count = 0
        self._lock = threading.Lock()  # the timer and the flags below
        self._refresh_lock = threading.Lock()  # one refresh at a time
        self._timer: threading.Timer | None = None
        self._timer_due = math.inf
        self._dirty = False
        self._refreshing = False  # a refresh is drawing: events only mark the view stale
        self._trials_running = False
        self._finished = False
        self._last_refresh = -math.inf
        self._unsubscribe = None
        self._sent_arrays: dict[tuple[int, str], np.ndarray] = {}
        self._encoder = charts.CachedEncoder(study.space)
        self._build_widgets()
        self.refresh()

    # --- lifecycle ---------------------------------------------------------------------------------
    @property
    def widget(self) -> widgets.VBox:
        return self._root

    def attach(self) -> "Dashboard":
        """Follow the study's events from now on, and draw it ended when its run ends."""
        if self._unsubscribe is None:
            off_events = self.study.subscribe(self._on_event)
            off_run_end = self.study.on_run_end(self.finish)
            self._unsubscribe = lambda: (off_events(), off_run_end())
        return self

    @contextlib.contextmanager
    def following(self) -> Iterator["Dashboard"]:
        """Follow the study while the block runs it, then draw the state the run ended in: the
        study's, or FAILED when the run raised before the study began (it then has no state)."""
        self.attach()
        try:
            yield self
        finally:
            self.finish(self.study.state or StudyState.FAILED)

    def finish(self, state: StudyState | None = None) -> None:
        """Stop following the study and draw it ended, in ``state``: by default the study's own
        (FINISHED for a study that never ran)."""
        with self._lock:
            self._finished = True
            self._cancel_timer()
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        self.state = StudyState(state or self.study.state or StudyState.FINISHED)
        self._stop_button.disabled = True
        self.refresh()

    def close(self) -> None:
        """Finish (if not done yet) and close the widgets, freeing their front-end models."""
        if not self._finished:
            self.finish(StudyState.STOPPED)
        _close_tree(self._root)

    def _repr_mimebundle_(self, **kwargs: Any) -> dict | None:
        return self._root._repr_mimebundle_(**kwargs)

    # --- throttling --------------------------------------------------------------------------------
    def _on_event(self, event: "TrialEvent") -> None:
        """Runs for every trial change, from either of the study's threads (see Study.subscribe):
        only marks the view stale."""
        with self._lock:
            if self._finished:
                return
            self._dirty = True
            if not self._refreshing:  # the refresh in progress re-arms when it ends
                self._arm(self._last_refresh + self.refresh_interval - time.monotonic())

    def _arm(self, delay: float) -> None:
        """Make sure a refresh runs within ``delay`` seconds (lock held)."""
        delay = max(0.0, delay)
        due = time.monotonic() + delay
        if self._timer is not None and self._timer_due <= due:
            return
        self._cancel_timer()
        self._timer = threading.Timer(delay, self._on_timer)
        self._timer.daemon = True
        self._timer_due = due
        self._timer.start()

    def _cancel_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self._timer, self._timer_due = None, math.inf

    def _on_timer(self) -> None:
        with self._lock:
            if self._finished or threading.current_thread() is not self._timer:
                return  # finished, or superseded by an earlier timer
            self._timer, self._timer_due = None, math.inf
        self.refresh()  # re-arms itself when events came while it drew
        with self._lock:
            if not self._finished and not self._dirty and self._trials_running:
                self._arm(self.HEARTBEAT)

    # --- drawing -----------------------------------------------------------------------------------
    def refresh(self) -> None:
        """Redraw from the study now: one snapshot, one batch of messages."""
        with self._refresh_lock:
            with self._lock:
                self._dirty = False
                self._refreshing = True
            try:
                self._redraw()
            finally:
                with self._lock:
                    self._refreshing = False
                    self._last_refresh = time.monotonic()
                    if self._dirty and not self._finished:
                        self._arm(self.refresh_interval)
            self.refresh_count += 1

    def _redraw(self) -> None:
        data = charts.build(
            self.study.trials,
            direction=self.study.config.direction,
            space=self.study.space,
            total=self.total,
            now=None if self._finished else time.time(),
            top_n=self.top_n,
            encoder=self._encoder,
        )
        with contextlib.ExitStack() as batch:
            for widget in self._synced:
                batch.enter_context(widget.hold_sync())
            self._draw(data)
        self._trials_running = data.progress.counts[TrialState.RUNNING.value] > 0

    def _draw(self, data: charts.DashboardData) -> None:
        self._draw_header(data.progress)
        self._draw_results(data.results)
        self._draw_curves(data.curves, data.progress.done)
        self._parallel.draw(data.parallel, self._set_arrays)
        self._analysis.draw(data.columns, final=self._finished)
        self._draw_tables(data)

    def _draw_header(self, progress: charts.Progress) -> None:
        config = self.study.config
        self._header.value = header_html(config, self.state)
        bar_max = max(progress.total if progress.total is not None else progress.done, 1)
        self._progress.max = bar_max
        self._progress.value = min(progress.done, bar_max)
        self._progress.bar_style = _BAR_STYLES[self.state]
        done = f"{progress.done} / {progress.total}" if progress.total is not None else str(progress.done)
        eta = f" · ETA {format_duration(progress.eta)}" if progress.eta is not None and not self._finished else ""
        self._status.value = (
            f'<span class="autotune-progress-text">{done} trials · elapsed {format_duration(progress.elapsed)}'
            f'{eta}</span><div class="autotune-counts">{counts_html(progress)}</div>'
        )
        self._best.value = best_html(progress.best, config.direction)

    def _draw_results(self, chart: charts.ResultsChart) -> None:
        for points in chart.points:  # float32: the biggest arrays sent, and precise enough to draw
            self._set_arrays(self._state_marks[points.state], x=points.numbers.astype(np.float32),
                             y=points.values.astype(np.float32))
        self._set_arrays(self._best_line, x=chart.best_numbers, y=chart.best_values)

    def _draw_curves(self, chart: charts.CurvesChart, done: int) -> None:
        steps, values = chart.steps, chart.values
        if steps.shape == (1, 1):  # bqplot squeezes (1, 1) to a scalar, which Lines refuses: pad a NaN step
            steps, values = (np.pad(a, ((0, 0), (0, 1)), constant_values=np.nan) for a in (steps, values))
        self._set_arrays(self._curve_lines, x=steps, y=values)
        self._curve_lines.colors = [STATE_COLORS[state] for state in chart.states] or [RESULT]
        self._set_arrays(self._stopped_marks, x=chart.stopped_steps, y=chart.stopped_values)
        # Hidden once trials end and none has reported: nothing to show (and no message for a study that reports).
        self._curves_figure.layout.display = None if chart.total or not done else "none"

    def _draw_tables(self, data: charts.DashboardData) -> None:
        parts = []
        if data.top:
            parts.append(f"<b>Top {len(data.top)} trials</b>")
            parts.append(trials_table_html(data.top, list(self.study.config.space)))
        else:
            parts.append("<i>No trial has succeeded yet.</i>")
        if data.failures:
            parts.append("<b>Latest failures</b>" + failures_table_html(data.failures[:5]))
        self._table.value = "".join(parts)
        options = [_NO_SELECTION] + [
            (f"#{row.number}: {_shorten(row.error or 'failed', 60)}", row.number) for row in data.failures
        ]
        if list(self._failed_select.options) != options:
            selected = self._failed_select.value
            self._failed_select.options = options
            self._failed_select.value = selected if any(value == selected for _, value in options) else -1
        self._failed_select.layout.display = None if data.failures else "none"

    def _set_arrays(self, mark: bqplot.Mark, **arrays: np.ndarray) -> None:
        """Set a mark's data arrays, skipping those equal to what was last sent (traitlets would
        resend an equal array)."""
        for name, array in arrays.items():
            key = (id(mark), name)
            last = self._sent_arrays.get(key)
            if last is not None and last.shape == array.shape and np.array_equal(last, array, equal_nan=True):
                continue
            setattr(mark, name, array)
            self._sent_arrays[key] = array

    # --- buttons -----------------------------------------------------------------------------------
    def _on_stop(self, _button: widgets.Button) -> None:
        self._stop()
        self._stop_button.disabled = True
        self._note.value = "Stop requested: waiting trials are dropped, running ones canceled."

    def _on_export(self, _button: widgets.Button) -> None:
        from ..export import write_json

        path = export_path(self.study.config.name, self.export_dir)
        state = self.state if self._finished else StudyState.RUNNING
        try:
            write_json(path, self.study.config, self.study.trials, state=state)
        except OSError as exc:
            self._note.value = f"Export failed: {html.escape(str(exc))}"
        else:
            self._note.value = f"Exported to <code>{html.escape(path)}</code>"

    def _on_select_failed(self, change: dict) -> None:
        number = change["new"]
        if number is None or number < 0:
            self._traceback.value = ""
            return
        trial = next((t for t in self.study.trials if t.number == number), None)
        text = (trial.error or trial.reason or "no traceback was recorded") if trial else "unknown trial"
        if trial is not None and trial.log_path:  # a trial command: its error holds the output's last lines
            text += f"\n\nfull output: {trial.log_path}"
        self._traceback.value = f"<pre>{html.escape(text)}</pre>"

    # --- layout ------------------------------------------------------------------------------------
    def _build_widgets(self) -> None:
        self._header = widgets.HTML().add_class("autotune-header-box")
        self._progress = widgets.IntProgress(min=0, max=1, value=0, bar_style="info").add_class("autotune-progress")
        self._status = widgets.HTML().add_class("autotune-status")
        self._best = widgets.HTML().add_class("autotune-best-box")
        self._table = widgets.HTML().add_class("autotune-trials")
        self._failed_select = widgets.Dropdown(options=[_NO_SELECTION], value=-1, description="Traceback")
        self._failed_select.add_class("autotune-failed-select")
        self._failed_select.observe(self._on_select_failed, names="value")
        self._traceback = widgets.HTML().add_class("autotune-traceback")
        stoppable = self._stop is not None
        self._stop_button = widgets.Button(description="Stop", icon="stop", button_style="danger",
                                           disabled=not stoppable).add_class("autotune-stop")
        self._stop_button.tooltip = "Stop the study" if stoppable else _BLOCKING_NOTE
        self._stop_button.on_click(self._on_stop)
        self._export_button = widgets.Button(description="Export JSON", icon="download").add_class("autotune-export")
        self._export_button.on_click(self._on_export)
        self._note = widgets.HTML("" if stoppable else html.escape(_BLOCKING_NOTE)).add_class("autotune-note")
        self._results_figure = self._make_results_figure()
        self._curves_figure = self._make_curves_figure()
        self._parallel = ParallelView(self.study.space, self.study.config.direction)
        self._analysis = AnalysisViews(self.study.space, self.study.config.direction, self._encoder)
        self._root = widgets.VBox([
            self._header,
            widgets.HBox([self._progress, self._status]),
            self._best,
            widgets.HBox([self._results_figure, self._curves_figure]),
            widgets.HTML(legend_html((TrialState.RUNNING, *FINISHED_STATES))).add_class("autotune-legend"),
            self._parallel.figure,
            self._analysis.widget,
            self._table,
            self._failed_select,
            self._traceback,
            widgets.HBox([self._stop_button, self._export_button, self._note]),
        ]).add_class("autotune-dashboard")
        self._synced = [
            self._header, self._progress, self._status, self._best, self._table,
            self._failed_select, self._failed_select.layout, *self._state_marks.values(), self._best_line,
            self._curve_lines, self._stopped_marks, self._curves_figure.layout,
            *self._parallel.synced, *self._analysis.synced,
        ]

    @staticmethod
    def _figure(title: str, marks: list, axes: list, css_class: str, width: str) -> bqplot.Figure:
        """A chart with its title; its title and axis labels are SVG text, which screen readers read."""
        figure = bqplot.Figure(
            title=title, marks=marks, axes=axes, animation_duration=0,
            fig_margin=dict(top=40, bottom=40, left=60, right=30),
            layout=widgets.Layout(width=width, height="300px"),
        )
        return figure.add_class(css_class)

    def _make_results_figure(self) -> bqplot.Figure:
        scales = {"x": bqplot.LinearScale(), "y": bqplot.LinearScale()}
        self._state_marks = {
            state: bqplot.Scatter(x=[], y=[], scales=scales, colors=[STATE_COLORS[state]], default_size=24,
                                  labels=[state_label(state)])
            for state in FINISHED_STATES
        }
        self._best_line = bqplot.Lines(x=[], y=[], scales=scales, colors=[BEST_LINE], interpolation="step-after",
                                       labels=["best so far"])
        axes = [bqplot.Axis(scale=scales["x"], label="trial", tick_format="d"),
                bqplot.Axis(scale=scales["y"], side="left", label="result")]
        return self._figure("Result per trial", [*self._state_marks.values(), self._best_line], axes,
                            "autotune-results-chart", "50%")

    def _make_curves_figure(self) -> bqplot.Figure:
        scales = {"x": bqplot.LinearScale(), "y": bqplot.LinearScale()}
        self._curve_lines = bqplot.Lines(x=[], y=[], scales=scales, stroke_width=1.5)
        self._stopped_marks = bqplot.Scatter(
            x=[], y=[], scales=scales, marker="cross", default_size=48,
            colors=[STATE_COLORS[TrialState.EARLY_STOPPED]], labels=["early-stopped"],
        )
        axes = [bqplot.Axis(scale=scales["x"], label="step"),
                bqplot.Axis(scale=scales["y"], side="left", label="intermediate result")]
        # The titles of the charts say their caps and no count, which would cost a message a refresh.
        return self._figure(f"Intermediate results (up to the latest {charts.MAX_CURVES} trials)",
                            [self._curve_lines, self._stopped_marks], axes,
                            "autotune-curves-chart", "50%")


def export_path(study_name: str, folder: str | None = None) -> str:
    """``<folder>/<study name>.autotune.json``, the name made safe for a file system."""
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", study_name).strip("._") or "study"
    return os.path.join(folder or os.getcwd(), f"{safe}.autotune.json")


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _close_tree(widget: widgets.Widget) -> None:
    """Close a widget and everything it holds: box children, a figure's marks, axes and scales."""
    held = [*getattr(widget, "children", ()), *getattr(widget, "marks", ()), *getattr(widget, "axes", ())]
    held += list(getattr(widget, "scales", {}).values()) + [getattr(widget, "scale", None)]
    for child in held:
        if child is not None:
            _close_tree(child)
    widget.close()
