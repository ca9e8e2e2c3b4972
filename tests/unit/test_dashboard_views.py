"""The views that answer "which setting matters": axes in the parameters' own units (log, categories),
parallel-coordinate and slice records, their widgets after a real study, the static SVG, and the
intermediate-results chart hidden when no trial reports."""

from __future__ import annotations

import re

import comm
import numpy as np
import pytest
from comm.base_comm import BaseComm

import autotune_nb as at
from autotune_nb import TrialState
from autotune_nb.notebook.dashboard import Dashboard
from autotune_nb.notebook.dashboard_views import _tick_key
from autotune_nb.space import SearchSpace
from autotune_nb.trial import Trial
from autotune_nb.views import charts, static

SPACE = {"x": at.uniform(-5, 5), "act": at.choice(["relu", "tanh", "gelu"]), "lr": at.loguniform(1e-4, 1.0),
         "layers": at.randint(1, 4)}


@pytest.fixture(autouse=True)
def recording_comm(monkeypatch):
    class RecordingComm(BaseComm):
        def publish_msg(self, msg_type, data=None, metadata=None, buffers=None, **keys):
            pass

    monkeypatch.setattr(comm, "create_comm", lambda *args, **kwargs: RecordingComm(*args, **kwargs))


def trial(number, value, **params) -> Trial:
    return Trial(number=number, params={"x": 0.0, "act": "relu", "lr": 1e-2, "layers": 1, **params},
                 state=TrialState.SUCCEEDED, value=value)


# --- axes and records ------------------------------------------------------------------------------
def test_axes_are_in_each_parameters_own_units():
    x, act, lr, layers = charts.space_axes(SearchSpace(SPACE))
    assert (x.scale, x.tick_labels) == ("linear", ("-4", "-2", "0", "2", "4"))
    assert x.ticks == pytest.approx((0.1, 0.3, 0.5, 0.7, 0.9))
    assert (lr.scale, lr.tick_labels) == ("log", ("0.0001", "0.001", "0.01", "0.1", "1"))
    assert lr.ticks == pytest.approx((0.0, 0.25, 0.5, 0.75, 1.0))  # powers of ten evenly spaced
    assert (act.scale, act.tick_labels) == ("category", ("relu", "tanh", "gelu"))
    assert act.ticks == pytest.approx((1 / 6, 3 / 6, 5 / 6))
    assert (layers.scale, layers.tick_labels) == ("linear", ("1", "2", "3"))  # whole numbers only


def test_a_narrow_log_range_gets_1_2_5_ticks_and_a_normal_its_quantiles():
    (narrow,) = charts.space_axes(SearchSpace({"lr": at.loguniform(0.01, 0.06)}))
    assert narrow.tick_labels == ("0.01", "0.02", "0.05")
    (normal,) = charts.space_axes(SearchSpace({"m": at.normal(0.0, 1.0)}))
    assert normal.scale == "quantile" and "0" in normal.tick_labels
    assert normal.ticks[normal.tick_labels.index("0")] == pytest.approx(0.5)


def test_parallel_axes_carry_real_ticks_and_the_result_axis_its_range():
    trials = [trial(0, 2.0, lr=1e-3, act="gelu"), trial(1, 12.0, lr=0.1, act="tanh")]
    chart = charts.parallel_chart(charts.columns_of(trials), "maximize", SearchSpace(SPACE))
    assert [a.scale for a in chart.axes] == ["linear", "category", "log", "linear", "linear"]
    assert chart.labels[-1] == "result" and chart.axes[-1].tick_labels == ("2", "4", "6", "8", "10", "12")
    assert chart.axes[-1].ticks[0] == pytest.approx(0.0) and chart.axes[-1].ticks[-1] == pytest.approx(1.0)
    # the best (trial 1) drawn last; its lr 0.1 sits at the 0.1 tick of the log axis, its act on "tanh"
    lr_axis, act_axis = chart.axes[2], chart.axes[1]
    assert chart.coordinates[-1, 2] == pytest.approx(lr_axis.ticks[lr_axis.tick_labels.index("0.1")])
    assert chart.coordinates[-1, 1] == pytest.approx(act_axis.ticks[act_axis.tick_labels.index("tanh")])


def test_the_result_range_widens_to_whole_ticks_so_a_new_value_inside_it_moves_no_axis():
    assert charts.nice_range(0.0013, 0.4993) == (0.0, 0.5) and charts.nice_range(-3.2, 7.9) == (-5.0, 10.0)
    space = SearchSpace(SPACE)
    first = charts.parallel_chart(charts.columns_of([trial(0, 0.13), trial(1, 0.87)]), "maximize", space)
    later = charts.parallel_chart(charts.columns_of([trial(0, 0.13), trial(1, 0.87), trial(2, 0.95)]), "maximize", space)
    assert first.value_range == later.value_range == (0.0, 1.0)
    assert first.axes[-1] == later.axes[-1]  # the same ticks: the axis sends no message
    assert later.coordinates[:, -1] == pytest.approx([0.13, 0.87, 0.95])


def test_parallel_lines_are_coloured_by_their_height_on_the_result_axis():
    study = at.Study(SPACE, tuner="Random", seed=1, storage=None)
    study.run(lambda p: p["x"], max_trials=12, executor="inline")
    parallel = Dashboard(study)._parallel
    assert np.array_equal(np.asarray(parallel.lines.color), np.asarray(parallel.lines.y)[:, -1])
    assert (parallel.lines.scales["color"].min, parallel.lines.scales["color"].max) == (0.0, 1.0)


def test_slices_sample_trials_by_number_and_leave_inactive_branches_out():
    space = SearchSpace({"opt": at.choice([{"_name": "sgd", "m": at.uniform(0, 1)}, {"_name": "adam"}])})
    trials = [Trial(number=i, params={"opt": {"_name": "sgd", "m": i / 10} if i % 4 == 0 else {"_name": "adam"}},
                    state=TrialState.SUCCEEDED, value=float(i)) for i in range(10)]
    trials.append(Trial(number=10, params={"opt": {"_name": "adam"}}, state=TrialState.FAILED))
    chart = charts.slice_chart(charts.columns_of(trials), space, max_points=5)
    assert [a.label for a in chart.axes] == ["opt", "opt/sgd/m"]
    assert chart.numbers.tolist() == [0, 2, 4, 6, 8] and chart.total == 10  # every 2nd: at most 5
    assert np.isnan(chart.coordinates[1, 1]) and chart.coordinates[2, 1] == pytest.approx(0.4)
    assert charts.slice_chart(charts.columns_of(trials), space, max_points=3).numbers.tolist() == [0, 4, 8]


def test_tick_keys_are_written_as_javascript_writes_numbers():
    assert [_tick_key(p) for p in (0.0, 1.0, 0.25, 0.1667)] == ["0", "1", "0.25", "0.1667"]


# --- widgets ---------------------------------------------------------------------------------------
def objective(params):
    if params["x"] > 4:
        raise ValueError("too large")
    return (params["x"] - 1) ** 2 + {"relu": 0.0, "tanh": 5.0, "gelu": 10.0}[params["act"]]


def test_the_dashboard_shows_importance_slices_and_parallel_axes_in_their_units():
    space = {"layers": SPACE["layers"], **SPACE}  # an unimportant parameter first
    study = at.Study(space, tuner="Random", direction="minimize", seed=3)
    dashboard = Dashboard(study, total=80).attach()
    study.run(objective, max_trials=80, max_failures=80, executor="inline")
    dashboard.finish()
    shown = re.findall(r'<th scope="row">([^<]+)</th>', dashboard._analysis.importance.value)
    assert set(shown[:2]) == {"x", "act"} and len(shown) == 4
    assert dashboard._analysis.slices.select.options[:2] == tuple(shown[:2])  # the most important first
    assert dashboard._analysis.slices.select.value == shown[0] == dashboard._analysis.slices.x_axis.label
    succeeded = study.counts()["SUCCEEDED"]
    assert len(dashboard._analysis.slices.points.x) == succeeded
    dashboard._analysis.slices.select.value = "lr"  # a person's pick stays through later draws
    dashboard.refresh()
    assert dashboard._analysis.slices.select.value == "lr"
    assert dashboard._analysis.slices.x_axis.tick_labels["0.5"] == "0.01" and dashboard._analysis.slices.x_axis.label == "lr"
    lr_axis = dashboard._parallel.axes[3]
    assert lr_axis.tick_labels == {"0": "0.0001", "0.25": "0.001", "0.5": "0.01", "0.75": "0.1", "1": "1"}
    assert lr_axis.offset["value"] == 3.0
    assert dashboard._curves_figure.layout.display == "none"  # no trial reported


def test_the_intermediate_chart_shows_once_a_trial_reports():
    study = at.Study(SPACE, tuner="Random", seed=3)
    dashboard = Dashboard(study, total=2).attach()

    def reports(params):
        at.report(1.0)
        return 1.0

    study.run(reports, max_trials=2, executor="inline")
    dashboard.finish()
    assert dashboard._curves_figure.layout.display is None


# --- static view -----------------------------------------------------------------------------------
def test_the_static_view_shows_importance_parallel_axes_and_slices():
    study = at.Study(SPACE, tuner="Random", direction="minimize", seed=4)
    study.run(objective, max_trials=40, max_failures=40, executor="inline")
    page = static.study_html(study.config, study.trials, study.state)
    assert "Parameter importance</b> (PED-ANOVA over" in page
    parallel = page[page.index('<svg class="autotune-parallel"'):]
    parallel = parallel[: parallel.index("</svg>")]
    for label in ("0.0001", "0.001", "0.01", "relu", "tanh", "gelu"):
        assert f">{label}</text>" in parallel
    assert page.count('<svg class="autotune-slice"') == 4
    assert "<title>result against lr</title>" in page
