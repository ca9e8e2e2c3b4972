"""The live dashboard: the pure chart data, the widgets' state after real studies, throttled and
batched updates counted on a recording comm, the buttons, and escaping of everything the user wrote."""

from __future__ import annotations

import json
import threading
import time

import comm
import numpy as np
import pytest
from comm.base_comm import BaseComm
from ipywidgets.widgets import widget as widget_module

import autotune_nb as at
from autotune_nb import TrialState
from autotune_nb.views import charts
from autotune_nb.notebook.dashboard import Dashboard, export_path
from autotune_nb.space import SearchSpace
from autotune_nb.testing.waiting import run_in_thread
from autotune_nb.trial import Trial
from autotune_nb.views.study_view import StudyView
from autotune_nb.vocabulary import Direction, StudyState

SCRIPT = "<script>alert(1)</script>"
SPACE = {"x": at.uniform(-5, 5), "act": at.choice(["relu", "tanh"]), "lr": at.loguniform(1e-4, 1.0)}


@pytest.fixture
def messages(monkeypatch) -> list[tuple[str, str, dict]]:
    """Every message the widgets send, as (msg_type, comm_id, data): a comm that records instead of
    publishing on a kernel's iopub channel, installed where ipywidgets creates its comms."""
    log: list[tuple[str, str, dict]] = []

    class RecordingComm(BaseComm):
        def publish_msg(self, msg_type, data=None, metadata=None, buffers=None, **keys):
            log.append((msg_type, self.comm_id, data))

    monkeypatch.setattr(comm, "create_comm", lambda *args, **kwargs: RecordingComm(*args, **kwargs))
    return log


def updates(log: list) -> list[tuple[str, str, dict]]:
    return [entry for entry in log if entry[0] == "comm_msg" and entry[2].get("method") == "update"]


def objective(params):
    """3 reports per trial; x > 4 fails after reporting, x < -3 is stopped early after reporting."""
    for step in range(1, 4):
        at.report(params["x"] + step, step=step)
    if params["x"] > 4:
        raise ValueError(f"x too large: {params['x']:.3f}")
    if params["x"] < -3:
        raise at.TrialStopped("stopped by the test")
    return (params["x"] - 1) ** 2


def finished_study(n: int = 60, direction: str = "minimize", space=SPACE) -> tuple[at.Study, Dashboard]:
    study = at.Study(space, tuner="Random", direction=direction, seed=1)
    dashboard = Dashboard(study, total=n).attach()
    study.run(objective, max_trials=n, max_failures=n, executor="inline")
    dashboard.finish()
    return study, dashboard


# --- the pure data step ----------------------------------------------------------------------------
def trial(number, state=TrialState.SUCCEEDED, value=None, params=None, intermediates=(), **kw) -> Trial:
    return Trial(number=number, params=params or {"x": 0.0, "act": "relu", "lr": 0.01}, state=state, value=value,
                 intermediates=tuple(intermediates), **kw)


def test_results_chart_plots_values_by_state_and_the_corners_of_the_best_so_far_steps():
    trials = [trial(0, value=3.0), trial(1, value=5.0), trial(2, TrialState.FAILED),
              trial(3, TrialState.EARLY_STOPPED, intermediates=[(1, 9.0), (2, 7.0)]), trial(4, value=1.0),
              trial(5, TrialState.RUNNING, intermediates=[(1, 0.5)])]
    chart = charts.results_chart(charts.columns_of(trials), "minimize")
    assert chart.of(TrialState.SUCCEEDED).numbers.tolist() == [0, 1, 4]
    assert chart.of(TrialState.EARLY_STOPPED).values.tolist() == [7.0]  # its last intermediate
    assert len(chart.of(TrialState.FAILED).numbers) == 0  # no value to plot
    assert (chart.best_numbers.tolist(), chart.best_values.tolist()) == ([0, 4], [3.0, 1.0])  # improvements
    maximize = charts.results_chart(charts.columns_of(trials), "maximize")
    assert (maximize.best_numbers.tolist(), maximize.best_values.tolist()) == ([0, 1, 4], [3.0, 5.0, 5.0])


def test_progress_counts_states_finds_the_best_and_estimates_the_remaining_time():
    trials = [trial(i, value=float(i), started_at=100.0 + i, finished_at=101.0 + i) for i in range(4)]
    trials.append(trial(4, TrialState.RUNNING, started_at=104.0))
    progress = charts.progress(charts.columns_of(trials), "maximize", total=10, now=108.0)
    assert progress.counts["SUCCEEDED"] == 4 and progress.counts["RUNNING"] == 1
    assert progress.done == 4 and progress.best.number == 3
    assert progress.elapsed == pytest.approx(8.0)
    assert progress.eta == pytest.approx(8.0 / 4 * 6)
    ended = charts.progress(charts.columns_of(trials[:4]), "minimize", total=4, now=None)
    assert ended.elapsed == pytest.approx(4.0) and ended.eta is None and ended.best.number == 0


@pytest.mark.parametrize("direction", list(Direction))
def test_the_charts_best_is_the_vocabularys_best(direction):
    """Ranking, the header's best and the best-so-far line follow ``Direction``, ties included."""
    rng = np.random.default_rng(7)
    values = rng.integers(0, 6, size=40).astype(float)  # many ties: the first trial of a value wins
    trials = [trial(i, TrialState.SUCCEEDED if i % 5 else TrialState.FAILED, value=v) for i, v in enumerate(values)]
    columns = charts.columns_of(trials)
    best = direction.best(trials)
    assert charts.progress(columns, direction, None, None).best is best
    assert charts.top_trials(columns, direction, 1)[0].number == best.number
    line = charts.results_chart(columns, direction)
    assert line.best_values[-1] == best.value and line.best_numbers[-1] == max(t.number for t in trials if t.number % 5)
    assert all(not direction.better(earlier, later) for earlier, later in zip(line.best_values, line.best_values[1:]))


def test_curves_are_nan_padded_capped_to_the_latest_and_mark_early_stops():
    trials = [trial(i, TrialState.SUCCEEDED, value=1.0, intermediates=[(s, float(s)) for s in range(1, 2 + i % 3)])
              for i in range(8)]
    trials.append(trial(8, TrialState.EARLY_STOPPED, intermediates=[(1, 4.0), (2, 3.5)]))
    chart = charts.curves_chart(charts.columns_of(trials), max_curves=5)
    assert chart.numbers.tolist() == [4, 5, 6, 7, 8] and chart.total == 9
    assert chart.steps.shape == (5, 3)
    assert np.isnan(chart.values[0, 2])  # trial 4 reported 2 steps: padded
    assert chart.stopped_steps.tolist() == [2.0] and chart.stopped_values.tolist() == [3.5]


def test_parallel_coordinates_use_the_unit_cube_encoding_and_draw_the_best_last():
    space = SearchSpace(SPACE)
    trials = [trial(0, value=2.0, params={"x": 0.0, "act": "tanh", "lr": 1e-2}),
              trial(1, value=4.0, params={"x": 5.0, "act": "relu", "lr": 1e-4}),
              trial(2, TrialState.FAILED, params={"x": 1.0, "act": "relu", "lr": 1e-3})]
    chart = charts.parallel_chart(charts.columns_of(trials), "maximize", space)
    assert chart.labels == ("x", "act", "lr", "result")
    assert chart.numbers.tolist() == [0, 1]  # failed trials have no result; the best (1) drawn last
    np.testing.assert_allclose(chart.coordinates[0], [0.5, 0.75, 0.5, 0.0])  # lr 1e-2 is mid-way on a log axis
    np.testing.assert_allclose(chart.coordinates[1], [1.0, 0.25, 0.0, 1.0])
    assert chart.value_range == (2.0, 4.0)
    capped = charts.parallel_chart(charts.columns_of(trials), "maximize", space, max_lines=1)
    assert capped.numbers.tolist() == [1] and capped.total == 2


def test_text_formats():
    assert charts.format_value({"_name": "Conv", "kernel": 3}) == "Conv(kernel=3)"
    assert charts.format_value(0.000123456789) == "0.000123457"
    assert charts.format_duration(125) == "2 min 05 s"
    failed = trial(0, TrialState.FAILED, error="Traceback (most recent call last):\n  ...\nKeyError: 'a'\n")
    assert charts.error_summary(failed) == "KeyError: 'a'"


# --- the widgets after a study ---------------------------------------------------------------------
def test_widgets_show_counts_progress_and_best_after_a_study(messages):
    study, dashboard = finished_study()
    counts = study.counts()
    assert counts["FAILED"] > 0 and counts["EARLY_STOPPED"] > 0 and counts["SUCCEEDED"] > 0
    for state in (TrialState.SUCCEEDED, TrialState.FAILED, TrialState.EARLY_STOPPED):
        assert f"{charts.state_label(state)} {counts[state.value]}</span>" in dashboard._status.value
    assert (dashboard._progress.value, dashboard._progress.max) == (60, 60)
    assert dashboard._progress.bar_style == "success"
    assert "60 / 60 trials" in dashboard._status.value
    assert charts.format_value(study.best.value) in dashboard._best.value
    assert f"(trial {study.best.number})" in dashboard._best.value
    assert "finished" in dashboard._header.value
    assert dashboard.widget._dom_classes == ("autotune-dashboard",)


def test_marks_hold_one_point_per_trial_and_early_stops_are_marked(messages):
    study, dashboard = finished_study()
    counts = study.counts()
    for state, mark in dashboard._state_marks.items():
        assert len(mark.x) == len(mark.y) == counts[state.value], state
    assert dashboard._best_line.y[-1] == study.best.value
    assert dashboard._best_line.x[-1] == max(t.number for t in study.trials if t.state == TrialState.SUCCEEDED)
    assert np.all(np.diff(dashboard._best_line.y) <= 0)  # minimize: the best so far only goes down
    assert dashboard._curve_lines.y.shape == (60, 3)
    stopped = [t for t in study.trials if t.state == TrialState.EARLY_STOPPED]
    assert dashboard._stopped_marks.x.tolist() == [3.0] * len(stopped)
    assert sorted(dashboard._stopped_marks.y.tolist()) == sorted(t.intermediates[-1][1] for t in stopped)
    assert dashboard._parallel.lines.y.shape == (counts["SUCCEEDED"], 4)
    assert len(dashboard._parallel.lines.color) == counts["SUCCEEDED"]


def test_a_single_curve_of_a_single_step_is_drawn(messages):
    """The first report of the first trial: bqplot squeezes a (1, 1) array to a scalar, which its
    Lines refuse (a TraitError printed under the cell by the refresh timer)."""
    study = at.Study(SPACE, tuner="Random", seed=1)
    dashboard = Dashboard(study, total=1).attach()

    def one_report(params):
        at.report(0.5)
        return 0.5

    study.run(one_report, max_trials=1, executor="inline")
    dashboard.finish()
    assert np.asarray(dashboard._curve_lines.y).shape == (2,)  # the step and a NaN pad, squeezed by bqplot
    assert np.asarray(dashboard._curve_lines.x)[0] == 1.0 and np.isnan(np.asarray(dashboard._curve_lines.x)[1])


def test_table_shows_the_top_trials_and_the_traceback_viewer_the_failed_ones(messages):
    study, dashboard = finished_study()
    table = dashboard._table.value
    assert table.count("<tr><td>") == 10 + min(5, study.counts()["FAILED"])
    assert f"<tr><td>{study.best.number}</td>" in table
    failed = [t for t in study.trials if t.state == TrialState.FAILED]
    numbers = [value for _, value in dashboard._failed_select.options][1:]
    assert numbers == [t.number for t in reversed(failed)]
    dashboard._failed_select.value = failed[0].number
    assert "ValueError: x too large" in dashboard._traceback.value
    assert "objective" in dashboard._traceback.value  # the full traceback, not the summary


# --- throttling and batching -----------------------------------------------------------------------
def test_thousands_of_events_send_a_bounded_number_of_messages_and_the_final_state(messages):
    study = at.Study(SPACE, tuner="Random", direction="minimize", seed=0)
    dashboard = Dashboard(study, total=2000).attach()
    events = []
    study.subscribe(events.append)
    before = len(updates(messages))
    started = time.monotonic()
    study.run(objective, max_trials=2000, max_failures=2000, executor="inline")
    elapsed = time.monotonic() - started
    dashboard.finish()
    sent = len(updates(messages)) - before
    refreshes_allowed = elapsed / dashboard.refresh_interval + elapsed / Dashboard.HEARTBEAT + 3
    assert len(events) == 2000 * 5  # started, 3 reports, finished
    assert dashboard.refresh_count <= refreshes_allowed
    assert sent <= refreshes_allowed * len(dashboard._synced)
    assert "2000 / 2000 trials" in dashboard._status.value  # the trailing refresh drew the end
    assert dashboard._timer is None


def test_a_refresh_slower_than_the_interval_lowers_the_rate_instead_of_queueing_refreshes(messages):
    """A big study on a loaded machine: each refresh takes longer than ``refresh_interval``. Events
    arriving while one draws must not arm more timers (they queued behind the drawing one and then
    ran back to back: 18 refreshes where 10 were allowed, seen in CI)."""
    drawing_time = 0.15
    study = at.Study(SPACE, tuner="Random", direction="minimize", seed=0)
    dashboard = Dashboard(study, total=400, refresh_interval=0.05).attach()
    draw = dashboard._draw

    def slow_draw(data):
        time.sleep(drawing_time)
        draw(data)

    dashboard._draw = slow_draw

    def paced(params):
        time.sleep(0.003)
        return objective(params)

    started = time.monotonic()
    study.run(paced, max_trials=400, max_failures=400, executor="inline")
    elapsed = time.monotonic() - started
    dashboard.finish()
    # each refresh starts refresh_interval after the previous one ended; +3: the first, a trailing
    # one, and finish's
    assert dashboard.refresh_count <= elapsed / (drawing_time + dashboard.refresh_interval) + 3
    assert dashboard.refresh_count >= 3  # it still drew while the trials ran
    assert "400 / 400 trials" in dashboard._status.value


def test_one_refresh_sends_at_most_one_message_per_widget(messages):
    study, dashboard = finished_study(n=20)
    study.run(objective, max_trials=5, executor="inline")
    before = len(messages)
    dashboard.refresh()
    per_widget: dict[str, int] = {}
    for _, comm_id, _ in updates(messages[before:]):
        per_widget[comm_id] = per_widget.get(comm_id, 0) + 1
    assert per_widget and max(per_widget.values()) == 1


def test_a_big_study_makes_no_widget_per_trial(messages):
    study = at.Study(SPACE, tuner="Random", direction="minimize", seed=0)
    dashboard = Dashboard(study, total=500).attach()
    widgets_before = len(widget_module._instances)
    study.run(objective, max_trials=500, max_failures=500, executor="inline")
    dashboard.finish()
    assert len(widget_module._instances) == widgets_before


def test_a_trailing_refresh_follows_the_last_event_without_finish(messages):
    study = at.Study(SPACE, tuner="Random", direction="minimize", seed=0)
    dashboard = Dashboard(study, total=30, refresh_interval=0.05).attach()
    study.run(objective, max_trials=30, max_failures=30, executor="inline")
    deadline = time.monotonic() + 5
    while "30 / 30 trials" not in dashboard._status.value and time.monotonic() < deadline:
        time.sleep(0.01)
    assert "30 / 30 trials" in dashboard._status.value
    dashboard.finish()


# --- its life: at.dashboard(study), and following a run ----------------------------------------------
def test_dashboard_of_a_finished_study_shows_its_final_state(messages):
    study = at.Study(SPACE, tuner="Random", seed=0).run(objective, max_trials=3, max_failures=3, executor="inline")
    dashboard = at.dashboard(study)
    assert dashboard.state == StudyState.FINISHED and dashboard._progress.bar_style == "success"
    assert "3 / 3 trials" in dashboard._status.value


def test_dashboard_of_a_running_study_follows_it_to_the_end_of_its_run(messages):
    """at.dashboard(study) while a thread (another cell's) runs it: nobody calls finish()."""
    study = at.Study(SPACE, tuner="Random", seed=0)
    release = threading.Event()
    runner, began = run_in_thread(study, lambda p: release.wait(5) and p["x"], max_trials=4, executor="inline")
    assert began.wait(5)
    dashboard = at.dashboard(study, total=4)
    assert dashboard.state == StudyState.RUNNING
    release.set()
    runner.join(10)
    # Drawn from the events that came after it was made, and ended by the run's end (Study.on_run_end).
    assert dashboard.state == StudyState.FINISHED and dashboard._finished
    assert "4 / 4 trials" in dashboard._status.value
    dashboard.close()


def test_following_a_run_draws_the_state_it_ended_in_and_then_lets_go(messages):
    study = at.Study(SPACE, tuner="Random", seed=0)
    dashboard = Dashboard(study, total=5)
    with dashboard.following():
        study.run(objective, max_trials=5, max_failures=5, executor="inline")
    assert dashboard.state == StudyState.FINISHED and "5 / 5 trials" in dashboard._status.value
    refreshes = dashboard.refresh_count
    study.run(objective, max_trials=5, max_failures=5, executor="inline")
    time.sleep(2 * dashboard.refresh_interval)
    assert dashboard.refresh_count == refreshes  # no longer subscribed


def test_following_a_run_that_raised_before_it_began_draws_failed(messages):
    study = at.Study(SPACE, tuner="Random", seed=0)
    dashboard = Dashboard(study, total=5)
    with pytest.raises(at.ConfigurationError), dashboard.following():
        study.run("not a function", max_trials=5, executor="inline")
    assert study.state is None and dashboard.state == StudyState.FAILED
    assert dashboard._progress.bar_style == "danger"


class RecordedStudy:
    """A study's read side and nothing else (``StudyView``): its records, frozen, and no events."""

    def __init__(self, study: at.Study):
        self.config, self.space, self.trials, self.state = study.config, study.space, study.trials, study.state

    def subscribe(self, callback):
        return lambda: None

    def on_run_end(self, callback):
        return lambda: None


def test_the_dashboard_needs_only_the_read_only_study_view(messages, tmp_path):
    study, _ = finished_study(n=20)
    assert isinstance(study, StudyView)
    recorded = RecordedStudy(study)
    assert isinstance(recorded, StudyView) and not hasattr(recorded, "stop")
    dashboard = at.dashboard(recorded)
    assert "20 / 20 trials" in dashboard._status.value and dashboard._stop_button.disabled
    dashboard.export_dir = str(tmp_path)
    dashboard._export_button.click()  # the export too reads only the view
    assert "Exported to" in dashboard._note.value


# --- buttons ---------------------------------------------------------------------------------------
def test_in_a_blocking_cell_stop_is_disabled_and_the_dashboard_says_to_interrupt(messages):
    study = at.Study(SPACE, tuner="Random", seed=0)
    dashboard = Dashboard(study, total=5)
    assert dashboard._stop_button.disabled
    assert "interrupt the kernel" in dashboard._note.value


def test_stop_button_stops_a_background_study(messages):
    study = at.Study(SPACE, tuner="Random", seed=0)
    dashboard = Dashboard(study, total=10_000, stop=study.stop).attach()
    runner, began = run_in_thread(study, lambda p: time.sleep(0.01) or p["x"], max_trials=10_000, executor="inline")
    assert began.wait(5)
    dashboard._stop_button.click()
    runner.join(10)
    assert not runner.is_alive()
    assert len(study.trials) < 10_000
    assert dashboard._stop_button.disabled and "Stop requested" in dashboard._note.value
    dashboard.finish()  # the state the study's run ended in
    assert dashboard.state == StudyState.STOPPED and dashboard._progress.bar_style == "warning"


def test_export_button_writes_the_study_json_in_the_export_folder(messages, tmp_path):
    study, dashboard = finished_study(n=10)
    dashboard.export_dir = str(tmp_path)
    dashboard._export_button.click()
    path = export_path(study.name, str(tmp_path))
    with open(path, encoding="utf-8") as f:
        document = json.load(f)
    assert document["format"] == "autotune-study" and len(document["trials"]) == 10
    assert document["study"]["state"] == "finished"
    assert "Exported to" in dashboard._note.value


def test_export_path_is_a_safe_file_name():
    assert export_path("../etc/x y", "/tmp") == "/tmp/etc_x_y.autotune.json"


# --- escaping --------------------------------------------------------------------------------------
def test_user_strings_are_escaped_in_every_html_widget(messages):
    space = {SCRIPT: at.uniform(-5, 5), "act": at.choice([SCRIPT, "relu"])}

    def hostile(params):
        if params["act"] == SCRIPT and params[SCRIPT] > 0:
            raise RuntimeError(SCRIPT)
        return params[SCRIPT]

    study = at.Study(space, tuner="Random", seed=2, name=SCRIPT)
    dashboard = Dashboard(study, total=30).attach()
    study.run(hostile, max_trials=30, max_failures=30, executor="inline")
    dashboard.finish()
    failed = [t for t in study.trials if t.state == TrialState.FAILED]
    assert failed and any(t.params["act"] == SCRIPT for t in study.trials if t.state == TrialState.SUCCEEDED)
    dashboard._failed_select.value = failed[0].number
    html_widgets = [dashboard._header, dashboard._status, dashboard._best, dashboard._table,
                    dashboard._traceback, dashboard._note]
    for widget in html_widgets:
        assert "<script" not in widget.value.lower(), widget
    assert "&lt;script&gt;" in dashboard._table.value and "&lt;script&gt;" in dashboard._traceback.value
