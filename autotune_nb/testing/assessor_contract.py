"""The contract every assessor keeps. tests/unit/test_assessors.py runs it on every registered
assessor; for another one, subclass ``AssessorContract`` in a test module, implement ``make_assessor``
and pytest runs the whole suite on recorded curves.

The recorded study: completed trials report ``FULL_STEPS`` values; the running trials under test
have reported ``RUNNING_STEPS``. ``make_assessor`` must return an assessor that rules at
``RUNNING_STEPS`` reports (e.g. ``start_step <= RUNNING_STEPS``, ``epoch_num=FULL_STEPS``).

Example:
    class TestMedianStop(AssessorContract):
        def make_assessor(self, optimize_mode):
            return MedianStop(optimize_mode=optimize_mode)
"""

from __future__ import annotations

import copy
from typing import Sequence

import numpy as np
import pytest

from ..assessors.base import Assessor, Decision
from ..errors import ConfigurationError
from ..trial import Trial, TrialState

FULL_STEPS = 20
RUNNING_STEPS = 10
MODES = ("maximize", "minimize")


def recorded_trial(number: int, values: Sequence[float],
                   state: TrialState = TrialState.SUCCEEDED) -> Trial:
    """A trial record whose intermediates are ``values`` at steps 1, 2, ..."""
    return Trial(number=number, params={"n": number}, state=state,
                 intermediates=tuple((step, float(v)) for step, v in enumerate(values, start=1)))


def accuracy_curve(top: float, steps: int) -> np.ndarray:
    """A typical rising, saturating curve that starts at 0.1 and approaches ``top``."""
    x = np.arange(1, steps + 1)
    return top - (top - 0.1) * x**-0.8


def oriented(values: np.ndarray, optimize_mode: str) -> np.ndarray:
    """Accuracies as they are for maximize; as losses (1 - accuracy) for minimize."""
    return values if optimize_mode == "maximize" else 1.0 - values


def completed_history(optimize_mode: str) -> list[Trial]:
    """Six SUCCEEDED trials whose final accuracies span 0.74 to 0.83."""
    return [
        recorded_trial(number, oriented(accuracy_curve(top, FULL_STEPS), optimize_mode))
        for number, top in enumerate([0.80, 0.82, 0.84, 0.86, 0.88, 0.90])
    ]


def terrible_trial(optimize_mode: str) -> Trial:
    """Stuck near chance (accuracy 0.10 to 0.11) while every completed trial passed 0.6."""
    x = np.arange(1, RUNNING_STEPS + 1)
    return recorded_trial(100, oriented(0.1 + 0.01 * (1 - np.exp(-0.5 * x)), optimize_mode),
                          TrialState.RUNNING)


def good_trial(optimize_mode: str) -> Trial:
    """Never behind the best completed trial, and heading for 0.87 (best completed: 0.83)."""
    return recorded_trial(101, oriented(accuracy_curve(0.95, RUNNING_STEPS), optimize_mode),
                          TrialState.RUNNING)


def unfinished_trials(first_number: int) -> list[Trial]:
    """Trials in every other state, as a study's history holds them."""
    great = accuracy_curve(0.99, FULL_STEPS)
    return [
        recorded_trial(first_number, (), TrialState.WAITING),
        recorded_trial(first_number + 1, great[:3], TrialState.RUNNING),
        recorded_trial(first_number + 2, (), TrialState.FAILED),
        recorded_trial(first_number + 3, great[:2], TrialState.CANCELED),
        recorded_trial(first_number + 4, great[:4], TrialState.TIMEOUT),
        recorded_trial(first_number + 5, accuracy_curve(0.3, 8), TrialState.EARLY_STOPPED),
    ]


class AssessorContract:
    def make_assessor(self, optimize_mode: str) -> Assessor:
        raise NotImplementedError("return the assessor under test for this optimize_mode")

    @pytest.mark.parametrize("optimize_mode", MODES)
    def test_terrible_curve_stops(self, optimize_mode):
        assessor = self.make_assessor(optimize_mode)
        trial = terrible_trial(optimize_mode)
        assert assessor.assess(trial, completed_history(optimize_mode)) is Decision.STOP

    @pytest.mark.parametrize("optimize_mode", MODES)
    def test_good_curve_continues(self, optimize_mode):
        assessor = self.make_assessor(optimize_mode)
        trial = good_trial(optimize_mode)
        assert assessor.assess(trial, completed_history(optimize_mode)) is Decision.CONTINUE

    @pytest.mark.parametrize("optimize_mode", MODES)
    def test_unfinished_trials_in_history_change_nothing(self, optimize_mode):
        assessor = self.make_assessor(optimize_mode)
        history = completed_history(optimize_mode) + unfinished_trials(first_number=50)
        assert assessor.assess(terrible_trial(optimize_mode), history) is Decision.STOP
        assert assessor.assess(good_trial(optimize_mode), history) is Decision.CONTINUE

    @pytest.mark.parametrize("optimize_mode", MODES)
    def test_empty_history_continues(self, optimize_mode):
        assessor = self.make_assessor(optimize_mode)
        assert assessor.assess(terrible_trial(optimize_mode), []) is Decision.CONTINUE

    @pytest.mark.parametrize("optimize_mode", MODES)
    def test_trial_without_intermediates_continues(self, optimize_mode):
        assessor = self.make_assessor(optimize_mode)
        trial = recorded_trial(100, (), TrialState.RUNNING)
        assert assessor.assess(trial, completed_history(optimize_mode)) is Decision.CONTINUE

    @pytest.mark.parametrize("optimize_mode", MODES)
    def test_decision_depends_on_arguments_only(self, optimize_mode):
        """Interleaved calls, a fresh instance and a tuple history all give the same answers."""
        used, fresh = self.make_assessor(optimize_mode), self.make_assessor(optimize_mode)
        history = completed_history(optimize_mode)
        bad, good = terrible_trial(optimize_mode), good_trial(optimize_mode)
        first = [used.assess(bad, history), used.assess(good, history)]
        again = [used.assess(bad, history), used.assess(good, tuple(history))]
        assert first == again == [fresh.assess(bad, history), fresh.assess(good, history)]
        assert first == [Decision.STOP, Decision.CONTINUE]

    @pytest.mark.parametrize("optimize_mode", MODES)
    def test_inputs_and_assessor_are_not_mutated(self, optimize_mode):
        assessor = self.make_assessor(optimize_mode)
        history = completed_history(optimize_mode) + unfinished_trials(first_number=50)
        trial = terrible_trial(optimize_mode)
        saved = (copy.deepcopy(history), copy.deepcopy(trial), copy.deepcopy(vars(assessor)))
        assessor.assess(trial, history)
        assessor.assess(good_trial(optimize_mode), history)
        assert (history, trial, vars(assessor)) == saved

    def test_unknown_optimize_mode_is_refused(self):
        with pytest.raises(ConfigurationError, match="optimize_mode"):
            self.make_assessor("maximise")
