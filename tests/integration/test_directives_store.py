"""Trial directives in the store (schema 3, upgraded in place from 2) and their JSON rules."""

from __future__ import annotations

import sqlite3

import pytest

import autotune_nb as at
from autotune_nb.directives import Directives, directives_from_json
from autotune_nb.store import SCHEMA_VERSION, StudyStore
from autotune_nb.store.schema import config_to_text
from autotune_nb.trial import Trial, TrialState

#: The trials table of schema 2, as autotune_nb wrote it before directives.
SCHEMA_2 = """
CREATE TABLE studies (name TEXT PRIMARY KEY, config TEXT NOT NULL, state TEXT NOT NULL, created_at REAL NOT NULL,
    updated_at REAL NOT NULL, owner TEXT, heartbeat REAL);
CREATE TABLE trials (study TEXT NOT NULL, number INTEGER NOT NULL, params TEXT NOT NULL, state TEXT NOT NULL,
    value REAL, metrics TEXT NOT NULL, intermediates TEXT NOT NULL, started_at REAL, finished_at REAL,
    slot INTEGER, gpu TEXT, error TEXT, reason TEXT, PRIMARY KEY (study, number)) WITHOUT ROWID
"""


def test_a_schema_2_store_is_upgraded_in_place_and_keeps_its_trials(tmp_path):
    path = str(tmp_path / "old.db")
    study = at.Study({"x": at.uniform(0, 1)}, tuner="Random", seed=0, name="old", storage=None)
    config = study.config
    with sqlite3.connect(path) as connection:
        for statement in SCHEMA_2.split(";"):
            connection.execute(statement)
        connection.execute("INSERT INTO studies VALUES ('old', ?, 'finished', 0, 0, NULL, NULL)",
                           (config_to_text(config),))
        connection.execute("INSERT INTO trials VALUES ('old', 0, '{\"x\": 0.5}', 'SUCCEEDED', 0.5, '{}', '[]', "
                           "0, 1, 0, NULL, NULL, NULL)")
        connection.execute("PRAGMA user_version = 2")
    store = StudyStore(path)
    try:
        [trial] = store.load_study("old")[1]
        assert (trial.params, trial.value, trial.directives) == ({"x": 0.5}, 0.5, None)
        directed = Trial(1, {"x": 0.7}, TrialState.SUCCEEDED, value=0.7,
                         directives=Directives(budget=3.0, bracket=1, rung=1, parent=0, resumed=True))
        store.save_trial("old", directed)
        store.flush()
        assert store.load_study("old")[1][1] == directed
    finally:
        store.close()
    with sqlite3.connect(path) as connection:
        assert connection.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 3


@pytest.mark.parametrize(("data", "fragment"), [
    ({"budget": 0}, "'budget' must be a number > 0"),
    ({"budget": float("inf")}, "'budget'"),
    ({"rung": -1}, "'rung' must be an integer >= 0"),
    ({"parent": 1.5}, "'parent'"),
    ({"resumed": 1}, "'resumed' must be true or false"),
    ({"brackets": 1}, "unknown directive(s) 'brackets'"),
    ([1], "must be an object"),
])
def test_directives_from_json_name_the_field_and_its_rule(data, fragment):
    with pytest.raises(ValueError) as caught:
        directives_from_json(data)
    assert fragment in str(caught.value)


def test_directives_round_trip_through_json():
    directives = Directives(budget=9.0, generation=2, member=3, parent=11, resumed=False)
    assert directives_from_json(directives.to_json()) == directives
    assert Directives().to_json() == {}
