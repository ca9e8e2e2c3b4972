"""The contract every study store keeps. Subclass ``StoreContract`` in a test module and pytest runs
the whole suite; a store backend other than SQLite overrides ``open_store``.

Example:
    class TestSQLiteStore(StoreContract):
        pass

    class TestMyStore(StoreContract):
        def open_store(self, location):
            return MyStore(location)
"""

from __future__ import annotations

import math
import os
from typing import Any

import pytest

from ..config import StudyConfig
from ..errors import StoreError
from ..errors import StudyBusyError
from ..store import LOST_REASON, StudyStorage, StudyStore
from ..vocabulary import StudyState
from ..trial import Trial, TrialState

SPACE = {
    "lr": {"_type": "loguniform", "_value": [1e-4, 0.1]},
    "model": {"_type": "choice", "_value": [
        {"_name": "mlp", "units": {"_type": "quniform", "_value": [16, 256, 16]}},
        {"_name": "linear"},
    ]},
}


def make_config(name: str = "study", **changes: Any) -> StudyConfig:
    return StudyConfig(name=name, space=SPACE, **changes)


def full_trial(number: int = 0) -> Trial:
    """A trial with every field set, nested parameters and non-finite numbers included."""
    return Trial(
        number=number,
        params={"lr": 0.003, "model": {"_name": "mlp", "units": 64}},
        state=TrialState.SUCCEEDED,
        value=0.875,
        metrics={"loss": 0.31, "epochs": 12, "note": "ok", "worst": -math.inf, "per_class": [0.5, 1.0]},
        intermediates=((1, 0.5), (2, 0.75), (5, math.inf)),
        started_at=1_700_000_000.25,
        finished_at=1_700_000_042.5,
        slot=1,
        gpu="0,1",
        error="Traceback (most recent call last):\n  ...\nValueError: boom",
        reason="a one-line cause",
    )


def running_trial(number: int, slot: int = 0) -> Trial:
    return Trial(number=number, params={"lr": 0.01, "model": {"_name": "linear"}}, state=TrialState.RUNNING,
                 started_at=1_700_000_000.0 + number, slot=slot)


def succeeded(number: int, value: float) -> Trial:
    return running_trial(number).replace(state=TrialState.SUCCEEDED, value=value,
                                         finished_at=1_700_000_100.0 + number)


class StoreContract:
    """The store's behaviour, whatever keeps the data."""

    def open_store(self, location: str) -> StudyStorage:
        """A store over ``location`` (a path in a fresh temporary folder); reopening it sees the data."""
        return StudyStore(location)

    @pytest.fixture
    def location(self, tmp_path) -> str:
        return os.fspath(tmp_path / "studies.db")

    @pytest.fixture
    def store(self, location):
        store = self.open_store(location)
        yield store
        store.close()

    def test_it_is_a_study_storage(self, store):
        assert isinstance(store, StudyStorage)

    # --- round trips ---------------------------------------------------------------------------
    def test_every_trial_field_comes_back_equal(self, store):
        store.create_study(make_config())
        trials = [full_trial(0), Trial(number=1, params={"lr": 0.01, "model": {"_name": "linear"}})]
        for trial in trials:
            store.save_trial("study", trial)
        _, loaded = store.load_study("study")
        assert loaded == trials

    def test_every_config_field_comes_back_equal(self, store):
        config = make_config(tuner="Evolution", tuner_args={"population_size": 8}, assessor="Medianstop",
                             assessor_args={"start_step": 3}, direction="minimize", seed=7)
        store.create_study(config)
        assert store.load_study("study") == (config, [])

    def test_the_last_snapshot_of_a_trial_wins(self, store):
        store.create_study(make_config())
        started = running_trial(0)
        reported = started.replace(intermediates=((1, 0.4),))
        store.save_trial("study", started)
        store.save_trial("study", reported)
        store.save_trial("study", reported.replace(state=TrialState.SUCCEEDED, value=0.5, finished_at=2e9))
        _, [trial] = store.load_study("study")
        assert (trial.state, trial.value, trial.intermediates) == (TrialState.SUCCEEDED, 0.5, ((1, 0.4),))

    def test_trials_come_back_by_number(self, store):
        store.create_study(make_config())
        for number in (2, 0, 1):
            store.save_trial("study", succeeded(number, number / 10))
        _, trials = store.load_study("study")
        assert [t.number for t in trials] == [0, 1, 2]

    def test_studies_with_the_same_trial_numbers_stay_apart(self, store):
        store.create_study(make_config("a"))
        store.create_study(make_config("b"))
        store.save_trial("a", succeeded(0, 1.0))
        store.save_trial("b", succeeded(0, 2.0))
        assert [t.value for t in store.load_study("a")[1]] == [1.0]
        assert [t.value for t in store.load_study("b")[1]] == [2.0]

    def test_a_reopened_store_has_everything_written(self, location):
        first = self.open_store(location)
        first.create_study(make_config())
        first.save_trial("study", full_trial(0))
        first.close()
        second = self.open_store(location)
        try:
            assert second.load_study("study") == (make_config(), [full_trial(0)])
        finally:
            second.close()

    # --- names ---------------------------------------------------------------------------------
    def test_a_second_study_with_the_same_name_is_refused(self, store):
        store.create_study(make_config("mnist"))
        with pytest.raises(StoreError, match=r"'mnist' is already in .*resume.*another name"):
            store.create_study(make_config("mnist", seed=1))

    def test_exist_ok_leaves_the_stored_study_as_it_was(self, store):
        store.create_study(make_config("mnist"))
        store.save_trial("mnist", succeeded(0, 0.5))
        store.create_study(make_config("mnist", seed=99), exist_ok=True)
        assert store.load_study("mnist") == (make_config("mnist"), [succeeded(0, 0.5)])

    @pytest.mark.parametrize("operation", ["load_study", "state_of", "acquire_lease", "delete_study", "set_state"])
    def test_an_unknown_name_lists_the_known_ones(self, store, operation):
        store.create_study(make_config("alpha"))
        store.create_study(make_config("beta"))
        args = {"set_state": ("gamma", "finished"), "acquire_lease": ("gamma", "run-1")}.get(operation, ("gamma",))
        with pytest.raises(StoreError, match=r"no study named 'gamma'.*'alpha', 'beta'"):
            getattr(store, operation)(*args)

    def test_trials_of_a_study_never_created_are_refused(self, store):
        with pytest.raises(StoreError, match=r"'ghost'.*create_study"):
            store.save_trial("ghost", succeeded(0, 1.0))

    # --- study state and listing ---------------------------------------------------------------
    def test_list_studies_summarises_each_study(self, store):
        store.create_study(make_config("up", tuner="Random"))
        store.create_study(make_config("down", direction="minimize"))
        store.create_study(make_config("empty"))
        for number, value in enumerate([0.2, 0.9, 0.4]):
            store.save_trial("up", succeeded(number, value))
            store.save_trial("down", succeeded(number, value))
        failed = running_trial(3).replace(state=TrialState.FAILED, value=5.0)  # a value, but not SUCCEEDED
        store.save_trial("up", failed)
        store.set_state("up", "finished")
        summaries = {s.name: s for s in store.list_studies()}
        assert set(summaries) == {"up", "down", "empty"}
        up, down, empty = summaries["up"], summaries["down"], summaries["empty"]
        assert (up.state, up.tuner, up.direction) == ("finished", "Random", "maximize")
        assert (up.n_trials, up.best_value) == (4, 0.9)
        assert (down.state, down.direction, down.n_trials, down.best_value) == ("running", "minimize", 3, 0.2)
        assert (empty.n_trials, empty.best_value) == (0, None)

    def test_an_unknown_study_state_is_refused(self, store):
        store.create_study(make_config())
        with pytest.raises(StoreError, match=r"running, finished, stopped, failed.*'done'"):
            store.set_state("study", "done")

    def test_a_deleted_study_is_gone_and_its_name_free(self, store):
        store.create_study(make_config("old"))
        store.save_trial("old", succeeded(0, 1.0))
        store.delete_study("old")
        assert [s.name for s in store.list_studies()] == []
        store.create_study(make_config("old"))
        assert store.load_study("old")[1] == []

    def test_a_closed_store_refuses_writes(self, location):
        store = self.open_store(location)
        store.create_study(make_config())
        store.close()
        with pytest.raises(StoreError, match="closed"):
            store.save_trial("study", succeeded(0, 1.0))

    # --- state, import, leases -------------------------------------------------------------------
    def test_state_of_is_the_stored_state(self, store):
        store.create_study(make_config())
        assert store.state_of("study") == StudyState.RUNNING
        store.set_state("study", "stopped")
        assert store.state_of("study") == StudyState.STOPPED

    def test_an_import_is_all_or_nothing(self, store):
        store.create_study(make_config("taken"))
        trials = [succeeded(0, 0.5), succeeded(3, 0.7)]
        with pytest.raises(StoreError, match="already in"):
            store.import_study(make_config("taken"), trials, "finished")
        assert store.load_study("taken")[1] == []
        store.import_study(make_config("new"), trials, "finished")
        assert store.load_study("new")[1] == trials and store.state_of("new") == StudyState.FINISHED

    def test_a_lease_numbers_after_every_stored_trial_and_marks_the_unfinished_lost(self, store):
        waiting = Trial(number=2, params={"lr": 0.02, "model": {"_name": "linear"}})
        store.import_study(make_config(), [succeeded(0, 0.5), running_trial(7), waiting], "stopped")
        assert store.acquire_lease("study", "run-1") == 8
        _, trials = store.load_study("study")
        assert [(t.number, t.state, t.reason) for t in trials] == [
            (0, TrialState.SUCCEEDED, None), (2, TrialState.FAILED, LOST_REASON), (7, TrialState.FAILED, LOST_REASON)]
        assert trials[2].started_at == running_trial(7).started_at  # the rest of the record is kept
        assert store.state_of("study") == StudyState.RUNNING

    def test_a_held_lease_refuses_another_run_until_released(self, store):
        store.create_study(make_config())
        store.acquire_lease("study", "run-1")
        assert store.acquire_lease("study", "run-1") == 0  # the holder may take it again
        with pytest.raises(StudyBusyError, match=r"study 'study' .* is running in process \d+"):
            store.acquire_lease("study", "run-2")
        store.release_lease("study", "run-2")  # not the holder: nothing happens
        with pytest.raises(StudyBusyError):
            store.acquire_lease("study", "run-2")
        store.release_lease("study", "run-1")
        assert store.acquire_lease("study", "run-2") == 0

