"""The Study facade: a constructor that writes nothing, ``create``/``load`` factories, one store entry."""

from __future__ import annotations

import os

import pytest

import autotune_nb as at
from autotune_nb.store import StudyStore
from autotune_nb.vocabulary import StudyState

SPACE = {"x": at.uniform(0, 1)}


@pytest.fixture
def path(tmp_path) -> str:
    return os.fspath(tmp_path / "studies.db")


def names_in(path: str) -> list[str]:
    with StudyStore(path) as store:
        return [row.name for row in store.list_studies()]


def test_the_constructor_writes_nothing_and_the_first_run_enters_the_store(path):
    study = at.Study(SPACE, tuner="Random", seed=0, name="quiet", storage=path)
    assert names_in(path) == []
    study.run(lambda p: p["x"], max_trials=2, executor="inline")
    assert names_in(path) == ["quiet"]
    assert at.Study.load("quiet", storage=path).state == StudyState.FINISHED


def test_create_enters_the_store_at_once_and_refuses_a_taken_name(path):
    at.Study.create(SPACE, tuner="Random", name="taken", storage=path)
    assert names_in(path) == ["taken"]
    with pytest.raises(at.StoreError, match="a study named 'taken' is already in"):
        at.Study.create(SPACE, tuner="Random", name="taken", storage=path)
    late = at.Study(SPACE, tuner="Random", name="taken", storage=path)  # refused when it would write
    with pytest.raises(at.StoreError, match="already in"):
        late.run(lambda p: p["x"], max_trials=1, executor="inline")
    assert late.trials == []


def test_a_loaded_study_continues_its_numbers_and_its_tuner_has_seen_its_trials(path):
    grid = {"k": at.choice([1, 2, 3])}
    first = at.Study.create(grid, tuner="GridSearch", name="grid3", storage=path)
    first.run(lambda p: p["k"], max_trials=2, executor="inline")
    loaded = at.Study.load("grid3", storage=path)
    loaded.run(lambda p: p["k"], max_trials=5, executor="inline")
    assert [t.number for t in loaded.trials] == [0, 1, 2]
    assert sorted(t.params["k"] for t in loaded.trials) == [1, 2, 3]  # the tuner skipped what had run
