"""The tuner contract on every tuner the registry ships, by each of its registered names: a tuner added
to ``autotune_nb.tuners``'s registry is held to the contract without a line here (unless it needs a
space or classArgs of its own: SETTINGS)."""

from __future__ import annotations

import pytest

from autotune_nb.testing.tuner_contract import (
    BATCH_SPACE,
    GRID_SPACE,
    METIS_SPACE,
    NAS_SPACE,
    TunerContract,
    nas_objective,
)
from autotune_nb.tuners import available_tuners, tuner_class

#: What a shipped tuner needs beyond TunerContract's defaults (MIXED_SPACE, no classArgs).
SETTINGS = {
    "GridSearch": {"space_spec": GRID_SPACE},
    "Batch": {"space_spec": BATCH_SPACE},
    "Evolution": {"class_args": {"population_size": 8}},  # so that most of the 25 trials are children
    "MetisTuner": {"space_spec": METIS_SPACE},
    "PPOTuner": {"space_spec": NAS_SPACE, "objective": staticmethod(nas_objective)},
}
#: Shipped tuners behind an extra: the module each needs, its suite skipped where it is not installed.
EXTRAS = {"SMAC": "smac"}


def shipped_tuners() -> list[str]:
    """The registered names whose class this package ships; test doubles that tests register at run
    time (``autotune_nb.testing.scripted``'s "Scripted") are not tuners to hold to the contract."""
    return [name for name in available_tuners() if tuner_class(name).__module__.startswith("autotune_nb.tuners.")]


class TestEveryShippedTuner(TunerContract):
    @pytest.fixture(autouse=True, params=shipped_tuners())
    def _shipped(self, request):
        if request.param in EXTRAS:
            pytest.importorskip(EXTRAS[request.param])
        self.tuner_name = request.param
        for attribute, value in SETTINGS.get(request.param, {}).items():
            setattr(self, attribute, value)


def test_settings_name_shipped_tuners():
    assert set(SETTINGS) | set(EXTRAS) <= set(shipped_tuners())
