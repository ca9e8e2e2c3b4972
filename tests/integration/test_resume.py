"""A study process killed mid-run: its finished trials survive, its workers end, and resume continues."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap

import psutil
import pytest

import autotune_nb as at
from autotune_nb.store import LOST_REASON, StudyStore
from autotune_nb.testing.waiting import wait_for
from autotune_nb.trial import TrialState

pytestmark = pytest.mark.timeout(120)

CHILD = textwrap.dedent("""
    import sys, time
    import autotune_nb as at

    def slow(params):
        time.sleep(0.3)
        return params["x"]

    study = at.Study({"x": at.uniform(0, 1)}, tuner="Random", seed=0, name="killed", storage=sys.argv[1])
    study.run(slow, max_trials=200, concurrency=2)
""")



def succeeded(path) -> int:
    store = StudyStore(path)
    try:
        return sum(t.state == TrialState.SUCCEEDED for t in store.load_study("killed")[1])
    except at.StoreError:  # not created yet
        return 0
    finally:
        store.close()


def test_kill_the_study_process_then_load_and_resume(tmp_path):
    path = str(tmp_path / "studies.db")
    child = subprocess.Popen([sys.executable, "-c", CHILD, path])
    try:
        wait_for(lambda: succeeded(path) >= 4, 60, "four finished trials")
        workers = psutil.Process(child.pid).children(recursive=True)
        os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=10)
    finally:
        if child.poll() is None:
            child.kill()
    # The orphaned workers notice their study process is gone and end by themselves.
    gone, alive = psutil.wait_procs(workers, timeout=10)
    assert workers and not [p for p in alive if p.status() != psutil.STATUS_ZOMBIE]

    study = at.Study.load("killed", storage=path)
    before = study.trials
    finished = [t for t in before if t.state == TrialState.SUCCEEDED]
    unfinished = [t for t in before if not t.state.is_finished]
    assert len(finished) >= 4
    assert all(t.value == t.params["x"] for t in finished)

    study.resume(lambda p: p["x"], max_trials=3, executor="inline")
    after = {t.number: t for t in study.trials}
    assert len(after) == len(before) + 3
    for trial in unfinished:  # those running at the kill are FAILED, with the reason
        assert after[trial.number].state == TrialState.FAILED and after[trial.number].reason == LOST_REASON
    new = [after[n] for n in range(len(before), len(before) + 3)]
    assert all(t.state == TrialState.SUCCEEDED for t in new)

    reloaded = at.Study.load("killed", storage=path)  # the resumed trials are on disk too
    assert [t.state for t in reloaded.trials] == [t.state for t in study.trials]


def test_a_resumed_seeded_study_draws_new_configurations(tmp_path):
    """A study rebuilt from its store continues with a random stream of its own: a resumed Random study
    does not replay its first run's configurations, and the same seed and trials give the same stream."""
    path = str(tmp_path / "studies.db")
    first = at.Study({"x": at.uniform(0, 1)}, tuner="Random", seed=3, name="again", storage=path)
    first.run(lambda p: p["x"], max_trials=5)
    first_xs = [t.params["x"] for t in first.trials]

    resumed = [at.Study.load("again", storage=path) for _ in range(2)]
    proposals = [[c["x"] for c in study.tuner.suggest(5)] for study in resumed]
    assert proposals[0] == proposals[1]
    assert not set(proposals[0]) & set(first_xs)

    resumed[0].resume(lambda p: p["x"], max_trials=5)
    xs = [t.params["x"] for t in resumed[0].trials]
    assert len(set(xs)) == 10
