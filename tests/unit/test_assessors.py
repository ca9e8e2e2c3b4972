from __future__ import annotations

import numpy as np
import pytest

from autotune_nb.assessors import assessor_class, available_assessors, create_assessor
from autotune_nb.assessors.base import Decision
from autotune_nb.assessors.curve_fitting import CurveFitting
from autotune_nb.assessors.median_stop import MedianStop
from autotune_nb.errors import ConfigurationError
from autotune_nb.testing.assessor_contract import (
    FULL_STEPS,
    RUNNING_STEPS,
    AssessorContract,
    accuracy_curve,
    recorded_trial,
    terrible_trial,
)
from autotune_nb.trial import Trial, TrialState

CONTINUE, STOP = Decision.CONTINUE, Decision.STOP


def running(values, steps=None) -> Trial:
    steps = steps or range(1, len(values) + 1)
    return Trial(99, {}, TrialState.RUNNING, intermediates=tuple(zip(steps, map(float, values))))


def history_of(*curves, state=TrialState.SUCCEEDED) -> list[Trial]:
    return [recorded_trial(number, curve, state) for number, curve in enumerate(curves)]


# ---------------------------------------------------------------- the contract, for every registered one

#: What a registered assessor needs beyond optimize_mode to rule at the contract's RUNNING_STEPS reports.
SETTINGS = {"Curvefitting": {"epoch_num": FULL_STEPS}, "ASHA": {"min_resource": RUNNING_STEPS}}


class TestEveryRegisteredAssessor(AssessorContract):
    @pytest.fixture(autouse=True, params=available_assessors())
    def _registered(self, request):
        self.name = request.param

    def make_assessor(self, optimize_mode):
        return create_assessor(self.name, optimize_mode=optimize_mode, **SETTINGS.get(self.name, {}))


def test_settings_name_registered_assessors():
    assert set(SETTINGS) <= set(available_assessors())


@pytest.mark.parametrize("name", available_assessors())
def test_an_assessor_is_registered_by_its_own_name(name):
    """Its errors name it as the registry and the config do."""
    assert assessor_class(name).name == name


def test_the_classes_are_the_package_s_attributes_imported_on_first_use():
    import autotune_nb.assessors as assessors

    assert (assessors.CurveFitting, assessors.MedianStop) == (CurveFitting, MedianStop)
    assert assessors.ASHA is assessor_class("ASHA")
    with pytest.raises(AttributeError, match="Nope"):
        assessors.Nope


# ---------------------------------------------------------------- Medianstop

# Running averages: A 1, 2, 3 | B 4, 4, 4 | C 0, 3, 3 | D 100, 100 (D has only two reports).
RECORDED = ([1, 3, 5], [4, 4, 4], [0, 6, 3], [100, 100])
MEDIAN_CASES = [
    # at S=3, D is left out: averages 3, 3, 4 -> median 3; equal to it is not strictly worse
    ([3, 0, 1], CONTINUE),
    ([2.9, 0, 1], STOP),
    ([0, 0, 3], CONTINUE),  # best so far counts, not the latest value
    # at S=2: averages 2, 3, 4, 100; of the two middle values NNI takes the worse (3, not 3.5)
    ([3, 0], CONTINUE),
    ([2.99, 0], STOP),
    ([100], CONTINUE),  # S=1: averages 0, 1, 4, 100 -> 1
    ([0.5], STOP),
]


@pytest.mark.parametrize(("values", "expected"), MEDIAN_CASES)
def test_medianstop_on_hand_computed_curves(values, expected):
    assert MedianStop().assess(running(values), history_of(*RECORDED)) is expected


@pytest.mark.parametrize(("values", "expected"), MEDIAN_CASES)
def test_medianstop_minimize_is_maximize_of_the_negation(values, expected):
    negated = [[-v for v in curve] for curve in RECORDED]
    decision = MedianStop(optimize_mode="minimize").assess(running([-v for v in values]),
                                                           history_of(*negated))
    assert decision is expected


def test_medianstop_mirrors_on_random_curves():
    rng = np.random.default_rng(0)
    decisions = []
    for _ in range(200):
        curves = [rng.normal(size=rng.integers(1, 8)) for _ in range(rng.integers(1, 7))]
        values = rng.normal(size=rng.integers(1, 8))
        high = MedianStop().assess(running(values), history_of(*curves))
        low = MedianStop(optimize_mode="minimize").assess(
            running(-values), history_of(*(-curve for curve in curves)))
        assert high is low
        decisions.append(high)
    assert {CONTINUE, STOP} <= set(decisions)


def test_medianstop_respects_start_step():
    assessor, history = MedianStop(start_step=3), history_of(*RECORDED)
    assert assessor.assess(running([0, 0]), history) is CONTINUE
    assert assessor.assess(running([0, 0, 0]), history) is STOP
    assert MedianStop().assess(running([0, 0]), history) is STOP


def test_medianstop_counts_reports_not_step_labels():
    trial = running([2.99, 0], steps=[100, 200])
    assert MedianStop().assess(trial, history_of(*RECORDED)) is STOP


def test_medianstop_continues_when_no_completed_trial_reached_the_step():
    assert MedianStop().assess(running([0, 0, 0, 0]), history_of(*RECORDED)) is CONTINUE


def test_medianstop_uses_only_succeeded_trials():
    high = ([5, 5, 5], [6, 6, 6])
    assert MedianStop().assess(running([1, 1]), history_of(*high)) is STOP
    for state in (TrialState.EARLY_STOPPED, TrialState.FAILED, TrialState.RUNNING):
        assert MedianStop().assess(running([1, 1]), history_of(*high, state=state)) is CONTINUE


# ---------------------------------------------------------------- Curvefitting


def test_curvefitting_predicts_a_pow3_curve():
    x = np.arange(1, 11)
    predicted = CurveFitting(epoch_num=50).predict(0.9 - 0.6 * x**-0.8)
    assert predicted == pytest.approx(0.9 - 0.6 * 50**-0.8, abs=1e-3)


def test_curvefitting_predicts_an_exponential_curve():
    x = np.arange(1, 13)
    predicted = CurveFitting(epoch_num=40).predict(0.8 - 0.5 * np.exp(-0.3 * x))
    assert predicted == pytest.approx(0.8 - 0.5 * np.exp(-0.3 * 40), abs=1e-3)


def test_curvefitting_predicts_a_noisy_curve():
    x = np.arange(1, 21)
    noisy = 0.9 - 0.6 * x**-0.8 + np.random.default_rng(0).normal(0, 0.005, len(x))
    predicted = CurveFitting(epoch_num=50).predict(noisy)
    assert predicted == pytest.approx(0.9 - 0.6 * 50**-0.8, abs=0.01)


def test_curvefitting_predicts_a_falling_loss():
    x = np.arange(1, 11)
    predicted = CurveFitting(epoch_num=50, optimize_mode="minimize").predict(0.1 + 0.6 * x**-0.8)
    assert predicted == pytest.approx(0.1 + 0.6 * 50**-0.8, abs=1e-3)


def completed_accuracies() -> list[Trial]:
    """Best final value: 0.9 - 0.8 * 20**-0.8 = 0.827."""
    return history_of(*(accuracy_curve(top, FULL_STEPS) for top in (0.8, 0.85, 0.9)))


def test_curvefitting_stops_a_curve_that_plateaus_below_the_best():
    x = np.arange(1, 11)
    trial = running(0.5 - 0.3 * np.exp(-0.8 * x))
    assert CurveFitting(epoch_num=FULL_STEPS).assess(trial, completed_accuracies()) is STOP


def test_curvefitting_continues_a_curve_heading_above_the_best():
    x = np.arange(1, 9)
    values = 0.95 - 0.9 * np.exp(-0.15 * x)  # reaches 0.905 at step 20
    best = max(t.last_intermediate for t in completed_accuracies())
    assert values[-1] < 0.95 * best  # behind now: only the extrapolation can save it
    decision = CurveFitting(epoch_num=FULL_STEPS).assess(running(values), completed_accuracies())
    assert decision is CONTINUE


def plateau(level: float, start: float) -> np.ndarray:
    """A curve from ``start`` to ``level``, within 1e-4 of it by step 20."""
    return level + (start - level) * np.exp(-0.5 * np.arange(1, 11))


@pytest.mark.parametrize(("level", "expected"), [(0.77, CONTINUE), (0.75, STOP)])
def test_curvefitting_maximize_threshold_is_a_fraction_of_the_best(level, expected):
    history = history_of([0.5, 0.7, 0.8])  # cut-off 0.95 * 0.8 = 0.76
    assessor = CurveFitting(epoch_num=FULL_STEPS)
    assert assessor.assess(running(plateau(level, start=0.1)), history) is expected


@pytest.mark.parametrize(("level", "expected"), [(0.205, CONTINUE), (0.215, STOP)])
def test_curvefitting_minimize_threshold_divides_the_best(level, expected):
    history = history_of([0.5, 0.3, 0.2])  # cut-off 0.2 / 0.95 = 0.2105
    assessor = CurveFitting(epoch_num=FULL_STEPS, optimize_mode="minimize")
    assert assessor.assess(running(plateau(level, start=0.9)), history) is expected


@pytest.mark.parametrize(("level", "expected"), [(-1.02, CONTINUE), (-1.06, STOP)])
def test_curvefitting_maximize_margin_stays_lenient_for_negative_values(level, expected):
    history = history_of([-3.0, -2.0, -1.0])  # cut-off -1 - 0.05 * |-1| = -1.05
    assessor = CurveFitting(epoch_num=FULL_STEPS)
    assert assessor.assess(running(plateau(level, start=-4.0)), history) is expected


@pytest.mark.parametrize(("level", "expected"), [(-0.96, CONTINUE), (-0.93, STOP)])
def test_curvefitting_minimize_margin_stays_lenient_for_negative_values(level, expected):
    history = history_of([0.0, -0.5, -1.0])  # cut-off -1 + (1 / 0.95 - 1) * |-1| = -0.947
    assessor = CurveFitting(epoch_num=FULL_STEPS, optimize_mode="minimize")
    assert assessor.assess(running(plateau(level, start=2.0)), history) is expected


def test_curvefitting_assesses_at_start_step_then_every_gap():
    assessor = CurveFitting(epoch_num=FULL_STEPS, start_step=7, gap=3)
    bad = [v for _, v in terrible_trial("maximize").intermediates]
    bad += [bad[-1]] * 4
    decisions = {n: assessor.assess(running(bad[:n]), completed_accuracies()) for n in range(4, 15)}
    assert [n for n, decision in decisions.items() if decision is STOP] == [7, 10, 13]


def test_curvefitting_continues_without_succeeded_trials():
    history = history_of(*(accuracy_curve(top, FULL_STEPS) for top in (0.8, 0.9)),
                         state=TrialState.EARLY_STOPPED)
    trial = terrible_trial("maximize")
    assert CurveFitting(epoch_num=FULL_STEPS).assess(trial, history) is CONTINUE
    assert CurveFitting(epoch_num=FULL_STEPS).assess(trial, completed_accuracies()) is STOP


@pytest.mark.parametrize("values", [[0.1], [0.1, 0.1], [0.1, 0.1, 0.1], [np.nan] * 8,
                                    [0.1, np.nan, 0.1, np.inf, np.nan, -np.inf, 0.1]])
def test_curvefitting_continues_when_it_cannot_fit(values):
    assessor = CurveFitting(epoch_num=FULL_STEPS, start_step=0)
    assert assessor.predict(values) is None
    assert assessor.assess(running(values), completed_accuracies()) is CONTINUE


def test_curvefitting_skips_non_finite_points():
    x = np.arange(1, 13)
    values = 0.8 - 0.5 * np.exp(-0.3 * x)
    values[[3, 7]] = [np.nan, np.inf]
    predicted = CurveFitting(epoch_num=40).predict(values)
    assert predicted == pytest.approx(0.8 - 0.5 * np.exp(-0.3 * 40), abs=1e-3)


@pytest.mark.parametrize("values", [[1e300, -1e300, 1e300, 0, 1, 2, 3], [0.5] * 8,
                                    list(np.linspace(0, 1e-13, 8))])
def test_curvefitting_never_raises_on_extreme_curves(values):
    decision = CurveFitting(epoch_num=FULL_STEPS).assess(running(values), completed_accuracies())
    assert decision in (CONTINUE, STOP)


def test_curvefitting_flat_curve_is_predicted_flat():
    assert CurveFitting(epoch_num=FULL_STEPS).predict([0.5] * 8) == 0.5


# ---------------------------------------------------------------- registry


def test_available_assessors_are_nni_names():
    assert available_assessors() == ["ASHA", "Curvefitting", "Medianstop"]


@pytest.mark.parametrize("name", ["Medianstop", "medianstop", "MEDIANSTOP", "MedianStop"])
def test_medianstop_name_is_case_insensitive(name):
    assessor = create_assessor(name, optimize_mode="minimize", start_step=4)
    assert isinstance(assessor, MedianStop)
    assert (assessor.optimize_mode, assessor.start_step) == ("minimize", 4)


@pytest.mark.parametrize("name", ["Curvefitting", "curvefitting", "CurveFitting"])
def test_curvefitting_name_is_case_insensitive(name):
    assessor = create_assessor(name, epoch_num=30, threshold=0.9, gap=2)
    assert isinstance(assessor, CurveFitting)
    settings = (assessor.epoch_num, assessor.start_step, assessor.threshold, assessor.gap)
    assert settings == (30, 6, 0.9, 2)


@pytest.mark.parametrize("name", ["Median", "KLStop", None])
def test_unknown_assessor_lists_valid_names(name):
    with pytest.raises(ConfigurationError) as caught:
        create_assessor(name)
    assert repr(name) in str(caught.value)
    assert "Curvefitting" in str(caught.value) and "Medianstop" in str(caught.value)


def test_bad_classarg_message_names_assessor_argument_rule_and_value():
    with pytest.raises(ConfigurationError) as caught:
        create_assessor("Medianstop", start_step=-1)
    assert str(caught.value) == "Medianstop: start_step must be an integer >= 0, got -1"


@pytest.mark.parametrize(("name", "class_args", "fragments"), [
    ("Medianstop", {"start_step": 2.5}, ["Medianstop", "start_step", "2.5", "int"]),
    ("Medianstop", {"start_step": True}, ["start_step", "True"]),
    ("Medianstop", {"epoch_num": 20}, ["Medianstop", "'epoch_num'", "20", "start_step"]),
    ("Curvefitting", {}, ["Curvefitting", "'epoch_num'", "required"]),
    ("Curvefitting", {"epoch_num": 0}, ["epoch_num", "0", ">= 1"]),
    ("Curvefitting", {"epoch_num": "20"}, ["epoch_num", "'20'"]),
    ("Curvefitting", {"epoch_num": 20, "start_step": -2}, ["start_step", "-2", ">= 0"]),
    ("Curvefitting", {"epoch_num": 20, "threshold": 0}, ["threshold", "0", "> 0"]),
    ("Curvefitting", {"epoch_num": 20, "threshold": float("nan")}, ["threshold", "nan"]),
    ("Curvefitting", {"epoch_num": 20, "gap": 0}, ["gap", "0", ">= 1"]),
    ("Curvefitting", {"epoch_num": 20, "threshhold": 0.9}, ["'threshhold'", "0.9", "threshold"]),
])
def test_bad_classargs_are_refused_by_name(name, class_args, fragments):
    with pytest.raises(ConfigurationError) as caught:
        create_assessor(name, **class_args)
    for fragment in fragments:
        assert fragment in str(caught.value)


@pytest.mark.parametrize("name", ["Medianstop", "Curvefitting"])
def test_bad_optimize_mode_is_refused(name):
    args = {"epoch_num": 20} if name == "Curvefitting" else {}
    with pytest.raises(ConfigurationError, match=f"{name}: optimize_mode .* got 'max'"):
        create_assessor(name, optimize_mode="max", **args)
