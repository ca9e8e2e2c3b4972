"""A study exported to JSON and imported into another SQLite store: loadable, resumable, never overwritten."""

from __future__ import annotations

import pytest

import autotune_nb as at
from autotune_nb.export import write_json
from autotune_nb.trial import LOST_REASON


def exported_study(tmp_path):
    study = at.Study({"x": at.uniform(0, 1)}, tuner="Random", seed=3, name="orig", storage=tmp_path / "a.db")
    study.run(lambda p: p["x"], max_trials=4, executor="inline")
    study.to_json(tmp_path / "orig.json")
    return study


def test_an_imported_study_is_in_the_store_and_resumes_there(tmp_path):
    original, db = exported_study(tmp_path), tmp_path / "b.db"
    imported = at.Study.from_json(tmp_path / "orig.json", storage=db)
    assert imported.state == "finished"
    loaded = at.Study.load("orig", storage=db)
    assert loaded.trials == original.trials and loaded.state == "finished"
    loaded.resume(lambda p: p["x"], max_trials=2, executor="inline")
    assert [t.number for t in at.Study.load("orig", storage=db).trials] == [0, 1, 2, 3, 4, 5]


def test_importing_under_a_name_the_store_holds_is_refused_and_writes_nothing(tmp_path):
    exported_study(tmp_path)
    db = tmp_path / "a.db"  # the store the study came from: "orig" is taken
    with pytest.raises(at.StoreError, match=r"a study named 'orig' is already in"):
        at.Study.from_json(tmp_path / "orig.json", storage=db)
    assert len(at.Study.load("orig", storage=db).trials) == 4
    copy = at.Study.from_json(tmp_path / "orig.json", storage=db, name="copy")
    assert copy.name == "copy" and len(at.Study.load("copy", storage=db).trials) == 4
    with pytest.raises(at.ConfigurationError, match="name must be a non-empty string, got ' '"):
        at.Study.from_json(tmp_path / "orig.json", storage=db, name=" ")


def test_without_storage_an_import_stays_out_of_every_store(tmp_path):
    exported_study(tmp_path)
    assert len(at.Study.from_json(tmp_path / "orig.json").trials) == 4
    with pytest.raises(at.StoreError, match="orig"):
        at.Study.load("orig", storage=tmp_path / "empty.db")


def test_a_study_exported_mid_run_is_imported_stopped_and_resume_marks_its_running_trials_lost(tmp_path):
    study = exported_study(tmp_path)
    running = study.trials[-1].replace(number=4, state=at.TrialState.RUNNING, value=None, finished_at=None)
    write_json(tmp_path / "mid.json", study.config, [*study.trials, running], state="running")
    db = tmp_path / "b.db"
    assert at.Study.from_json(tmp_path / "mid.json", storage=db).state == "stopped"
    loaded = at.Study.load("orig", storage=db)
    assert loaded.state == "stopped"
    loaded.resume(lambda p: p["x"], max_trials=1, executor="inline")
    trials = at.Study.load("orig", storage=db).trials
    assert (trials[4].state, trials[4].reason) == (at.TrialState.FAILED, LOST_REASON)
    assert trials[5].state == at.TrialState.SUCCEEDED
