"""PBT through real studies (LocalPool workers, real checkpoint files): generations, exploit copies a
top member's checkpoint, explore perturbs its hyperparameters, lineage, resume mid-generation and
the deletion of checkpoints no member needs."""

from __future__ import annotations

import os

import pytest

import autotune_nb as at
from autotune_nb.testing.budgeted import pbt_step
from autotune_nb.trial import TrialState

pytestmark = pytest.mark.timeout(180)

SPACE = {"q": at.uniform(0, 1)}
ARGS = {"population_size": 4, "factor": 0.2, "resample_probability": 0.0, "fraction": 0.25}


def pbt(path):
    return at.Study(SPACE, tuner="PBTTuner", tuner_args=ARGS, seed=1, name="pbt", storage=path)


def test_generations_exploit_the_top_member_s_checkpoint_and_explore_its_params(tmp_path):
    study = pbt(str(tmp_path / "s.db"))
    study.run(pbt_step, max_trials=12, concurrency=2)  # three generations of four
    trials = {t.number: t for t in study.trials}
    assert all(t.state is TrialState.SUCCEEDED for t in trials.values())
    assert [t.directives.generation for t in trials.values()] == [0] * 4 + [1] * 4 + [2] * 4
    for generation in (1, 2):
        previous = sorted((t for t in trials.values() if t.directives.generation == generation - 1),
                          key=lambda t: -t.value)
        top, bottom = previous[0], previous[-1]
        current = {t.directives.member: t for t in trials.values() if t.directives.generation == generation}
        exploiter = current[bottom.directives.member]
        assert exploiter.directives.parent == top.number  # copied the best member's checkpoint ...
        assert exploiter.metrics["loaded"]["lineage"][-1] == top.number
        assert exploiter.metrics["loaded"]["score"] == pytest.approx(top.value)
        ratio = exploiter.params["q"] / top.params["q"]
        explored = ratio in (pytest.approx(0.8), pytest.approx(1.2)) or exploiter.params["q"] == 1.0  # (kept <= 1)
        assert explored  # ... and explored from its params
        for member, trial in current.items():
            if member != bottom.directives.member:  # the others continue their own
                own = next(t for t in previous if t.directives.member == member)
                assert trial.directives.parent == own.number and trial.params == own.params
                assert trial.metrics["loaded"]["score"] == pytest.approx(own.value)
        for trial in current.values():
            assert trial.metrics["nni_load"] == trial.metrics["nni_save"]
            assert trial.directives.resumed is True


def test_only_the_latest_generation_s_checkpoints_are_kept(tmp_path):
    path = str(tmp_path / "s.db")
    study = pbt(path)
    study.run(pbt_step, max_trials=12, concurrency=2)
    root = os.path.join(f"{path}.studies", "pbt", "checkpoints")
    assert {int(name) for name in os.listdir(root)} == {t.number for t in study.trials
                                                       if t.directives.generation == 2}


def test_a_study_stopped_mid_generation_resumes_it(tmp_path):
    path = str(tmp_path / "s.db")
    pbt(path).run(pbt_step, max_trials=6, concurrency=2)  # generation 0 and half of generation 1
    loaded = at.Study.load("pbt", storage=path)
    loaded.resume(pbt_step, max_trials=6, concurrency=2)
    trials = loaded.trials
    assert [t.directives.generation for t in trials] == [0] * 4 + [1] * 4 + [2] * 4
    generation1 = [t for t in trials if t.directives.generation == 1]
    assert sorted(t.directives.member for t in generation1) == [0, 1, 2, 3]
    for trial in generation1 + [t for t in trials if t.directives.generation == 2]:
        # every member continued from a checkpoint that survived the resume
        assert trial.directives.resumed is True and trial.metrics["loaded"] is not None
