"""Budgets and checkpoints through real studies: Hyperband's trials in LocalPool workers see their
budget (``at.budget``, NNI's TRIAL_BUDGET), promotions continue from the parent's checkpoint when
it saved one and run again when not, a study stopped mid-bracket resumes it, and checkpoint
folders of ended brackets are deleted."""

from __future__ import annotations

import gc
import os

import pytest

import autotune_nb as at
from autotune_nb.testing.budgeted import curve_with_checkpoints, curve_without_checkpoints
from autotune_nb.trial import TrialState

pytestmark = pytest.mark.timeout(180)

SPACE = {"q": at.uniform(0, 1)}


def hyperband(path, exec_mode="serial"):
    """Serial by default: one bracket at a time, so a test knows which trials a run holds."""
    return at.Study(SPACE, tuner="Hyperband", tuner_args={"R": 9, "eta": 3, "exec_mode": exec_mode}, seed=0,
                    name="hb", storage=path)


def by_number(study):
    return {t.number: t for t in study.trials}


def test_trials_without_a_budget_see_none():
    study = at.Study(SPACE, tuner="Random", seed=0, storage=None)
    study.run(curve_without_checkpoints, max_trials=2, executor="inline")
    for trial in study.trials:
        assert trial.directives is None
        assert (trial.metrics["budget"], trial.metrics["nni_budget"], trial.metrics["checkpoint_dir"]) == (None,) * 3
        assert trial.metrics["epochs_run"] == 5


def test_local_workers_see_each_trial_s_budget_and_nni_s_parameters(tmp_path):
    study = hyperband(str(tmp_path / "s.db"))
    study.run(curve_with_checkpoints, max_trials=13, concurrency=2)  # bracket 0 of R=9: 9 + 3 + 1 trials
    trials = study.trials
    assert [t.directives.rung for t in trials] == [0] * 9 + [1] * 3 + [2]
    for trial in trials:
        assert trial.state is TrialState.SUCCEEDED
        assert trial.metrics["budget"] == trial.metrics["nni_budget"] == trial.directives.budget
        assert trial.metrics["checkpoint_dir"] == trial.metrics["nni_checkpoint_dir"]
        assert trial.metrics["param_keys"] == ["q"]  # the budget is not one of the trial's parameters
        assert [step for step, _ in trial.intermediates][-1] == trial.directives.budget
    assert [t.directives.budget for t in trials] == [1.0] * 9 + [3.0] * 3 + [9.0]


def test_a_promotion_continues_from_its_parent_s_checkpoint(tmp_path):
    study = hyperband(str(tmp_path / "s.db"))
    study.run(curve_with_checkpoints, max_trials=13, concurrency=2)
    trials = by_number(study)
    rung0 = sorted((t for t in trials.values() if t.directives.rung == 0), key=lambda t: -t.value)
    rung1 = [t for t in trials.values() if t.directives.rung == 1]
    assert sorted(t.directives.parent for t in rung1) == sorted(t.number for t in rung0[:3])  # the top third
    for trial in rung1 + [t for t in trials.values() if t.directives.rung == 2]:
        parent = trials[trial.directives.parent]
        assert trial.params == parent.params and trial.directives.resumed is True
        assert trial.metrics["start"] == parent.directives.budget  # continued where the parent stopped
        assert trial.intermediates[0][0] == parent.directives.budget + 1
    assert sum(t.metrics["epochs_run"] for t in trials.values()) == 9 * 1 + 3 * 2 + 1 * 6


def test_a_promotion_without_a_checkpoint_runs_again_at_the_larger_budget(tmp_path):
    study = hyperband(str(tmp_path / "s.db"))
    study.run(curve_without_checkpoints, max_trials=13, concurrency=2)
    promoted = [t for t in study.trials if t.directives.rung > 0]
    assert len(promoted) == 4
    for trial in promoted:
        assert trial.directives.resumed is False
        assert trial.metrics["start"] == 0 and trial.metrics["epochs_run"] == trial.directives.budget
        assert trial.intermediates[0][0] == 1


def test_a_study_stopped_mid_bracket_resumes_it(tmp_path):
    path = str(tmp_path / "s.db")
    hyperband(path).run(curve_with_checkpoints, max_trials=5, concurrency=2)
    loaded = at.Study.load("hb", storage=path)
    assert [t.directives.rung for t in loaded.trials] == [0] * 5
    loaded.resume(curve_with_checkpoints, max_trials=8, concurrency=2)  # 4 more of rung 0, then rung 1
    trials = by_number(loaded)
    rung0 = [t for t in trials.values() if t.directives.bracket == 0 and t.directives.rung == 0]
    rung1 = [t for t in trials.values() if t.directives.bracket == 0 and t.directives.rung == 1]
    assert len(rung0) == 9 and len({t.params["q"] for t in rung0}) == 9
    best = sorted(rung0, key=lambda t: -t.value)[:3]
    assert sorted(t.directives.parent for t in rung1) == sorted(t.number for t in best)
    assert all(t.directives.resumed for t in rung1)  # the first run's checkpoints survived the resume


def test_in_parallelism_mode_the_next_bracket_fills_a_slot_a_rung_leaves_idle(tmp_path):
    """A scripted pool holds rung 0's last trial (8): the other slot runs bracket 1 meanwhile; once 8
    ends, the older bracket's promotions come first."""
    from autotune_nb.testing.fake_pool import FakePool

    def on_submit(pool, job):
        if job.number != 8:
            job.succeed(job.params["q"])
        if job.number == 12:
            pool.job(8).succeed(pool.job(8).params["q"])

    study = hyperband(str(tmp_path / "s.db"), exec_mode="parallelism")
    study.run(curve_with_checkpoints, max_trials=16, executor=FakePool(2, on_submit=on_submit))
    places = [(t.directives.bracket, t.directives.rung) for t in study.trials]
    assert places == [(0, 0)] * 9 + [(1, 0)] * 4 + [(0, 1)] * 3


def test_checkpoints_of_ended_brackets_are_deleted_and_others_kept(tmp_path):
    path = str(tmp_path / "s.db")
    study = hyperband(path)
    study.run(curve_with_checkpoints, max_trials=17, concurrency=2)  # bracket 0 (13 trials), 4 of bracket 1
    root = os.path.join(f"{path}.studies", "hb", "checkpoints")
    kept = {int(name) for name in os.listdir(root)}
    bracket1 = {t.number for t in study.trials if t.directives.bracket == 1}
    assert kept == bracket1


def test_lineage_is_in_the_static_view_the_dashboard_and_the_json_document(tmp_path):
    import json

    from autotune_nb.notebook.dashboard import dashboard

    study = hyperband(str(tmp_path / "s.db"))
    study.run(curve_with_checkpoints, max_trials=13, concurrency=2)
    final = next(t for t in study.trials if t.directives.rung == 2)
    label = f"bracket 0 rung 2 · budget 9 · from #{final.directives.parent} (checkpoint)"
    assert final.number == study.best.number  # the best trial, so the top-trials tables show it
    assert "<th>lineage</th>" in study._repr_mimebundle_()["text/html"]
    assert label in study._repr_mimebundle_()["text/html"]
    assert label in dashboard(study)._table.value
    path = tmp_path / "hb.json"
    study.to_json(path)
    document = json.loads(path.read_text())
    assert document["version"] == 1  # the field is optional: a version-1 reader skips it
    exported = next(t for t in document["trials"] if t["number"] == final.number)
    assert exported["directives"] == {"budget": 9.0, "bracket": 0, "rung": 2, "parent": final.directives.parent,
                                      "resumed": True}
    assert at.Study.from_json(path).trials == study.trials  # read back as written


def test_bohb_trials_see_their_budgets_in_workers(tmp_path):
    study = at.Study(SPACE, tuner="BOHB", tuner_args={"min_budget": 1, "max_budget": 9}, seed=0,
                     storage=str(tmp_path / "s.db"))
    study.run(curve_with_checkpoints, max_trials=8, concurrency=2)
    for trial in study.trials:
        assert trial.metrics["budget"] == trial.metrics["nni_budget"] == trial.directives.budget
        assert trial.directives.budget in (1.0, 3.0, 9.0)


def test_a_study_without_a_store_removes_its_checkpoint_folder_when_it_is_gone():
    study = at.Study(SPACE, tuner="Hyperband", tuner_args={"R": 9, "eta": 3}, seed=0, storage=None)
    study.run(curve_with_checkpoints, max_trials=13, executor="inline")
    folder = study.folder
    assert os.path.isdir(os.path.join(folder, "checkpoints"))
    del study
    gc.collect()
    assert not os.path.exists(folder)
