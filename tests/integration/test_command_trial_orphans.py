"""A study process killed with SIGKILL leaves no trial command running, and ``--resume`` keeps its trials.

``autotune-nb nni`` runs in a real subprocess; its trials 1 and 2 sleep with a grandchild, trial 0
finishes at once. The CLI process gets SIGKILL (a killed kernel, ``kill -9``): nothing of the trials'
process groups, nor its workers, may survive it. ``--resume`` then marks the two trials that were
running lost, keeps the finished one, and runs new trials.
"""

from __future__ import annotations

import json
import os
import pathlib
import signal
import subprocess

import psutil
import pytest

from autotune_nb.execution.command_trial import GROUP_FILE_NAME, trial_folder
from autotune_nb.store import open_store
from autotune_nb.testing.waiting import wait_for
from autotune_nb.trial import LOST_REASON, TrialState
from tests.integration.test_cli import REPO, console_script, finished
from tests.integration.test_nni_command_trials import gone

pytestmark = pytest.mark.timeout(300)

SLEEPERS = (1, 2)

PROGRAM = f'''
import json, os, subprocess, sys, time
import nni

params = nni.get_next_parameter()
out = os.environ["NNI_OUTPUT_DIR"]
if nni.get_sequence_id() in {SLEEPERS!r}:
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
    with open(os.path.join(out, "grandchild.json"), "w") as file:
        json.dump(child.pid, file)
    time.sleep(600)
nni.report_final_result(params["x"])
'''


def experiment(folder) -> str:
    code = folder / "code"
    code.mkdir(parents=True)
    (code / "trial.py").write_text(PROGRAM)
    config = {"experimentName": "orphans", "searchSpace": {"x": {"_type": "uniform", "_value": [0, 1]}},
              "trialCommand": "python3 trial.py", "trialCodeDirectory": "code",
              "tuner": {"name": "Random", "classArgs": {"optimize_mode": "maximize"}}}
    path = folder / "config.yml"
    path.write_text(json.dumps(config))
    return str(path)


def group_members(group: int) -> list[int]:
    """The live (not zombie) processes of process group ``group``."""
    members = []
    for process in psutil.process_iter(["status"]):
        try:
            if os.getpgid(process.pid) == group and process.info["status"] != psutil.STATUS_ZOMBIE:
                members.append(process.pid)
        except (ProcessLookupError, psutil.Error):
            pass
    return members


def stored_trials(store, name: str) -> dict[int, object]:
    return {trial.number: trial for trial in open_store(str(store)).load_study(name)[1]}


def test_sigkill_of_the_study_process_ends_its_trial_commands_and_resume_keeps_what_finished(tmp_path):
    store = tmp_path / "store.db"
    config = experiment(tmp_path)
    env = {**os.environ, "PYTHONPATH": str(REPO), "AUTOTUNE_NB_STORE": str(store)}
    with open(tmp_path / "cli.out", "w") as log:
        process = subprocess.Popen([*console_script(), "nni", config, "--trials", "6", "--concurrency", "2",
                                    "--name", "killed"], env=env, stdout=log, stderr=subprocess.STDOUT)
    folder = f"{store}.studies/killed"
    sleeping = {n: os.path.join(trial_folder(folder, n), "grandchild.json") for n in SLEEPERS}
    groups = {n: os.path.join(trial_folder(folder, n), GROUP_FILE_NAME) for n in SLEEPERS}
    try:
        wait_for(lambda: all(os.path.exists(path) for path in sleeping.values()), 120, "trials 1 and 2 to sleep")
        wait_for(lambda: all(os.path.exists(path) and os.path.getsize(path) for path in groups.values()),
                 30, "their process-group files")
        wait_for(lambda: stored_trials(store, "killed")[0].state == TrialState.SUCCEEDED, 30, "trial 0 stored")
    except BaseException:
        process.kill()
        raise
    group_ids = {n: int(pathlib.Path(path).read_text()) for n, path in groups.items()}
    grandchildren = {n: json.loads(pathlib.Path(path).read_text()) for n, path in sleeping.items()}
    assert all(os.getpgid(grandchildren[n]) == group_ids[n] for n in SLEEPERS)  # the test sees the real groups
    workers = [child.pid for child in psutil.Process(process.pid).children()]

    process.send_signal(signal.SIGKILL)
    process.wait()
    try:
        wait_for(lambda: not any(group_members(group) for group in group_ids.values()), 30,
                 f"the trials' process groups {sorted(group_ids.values())} to end after the study process's SIGKILL")
    except BaseException:
        for group in group_ids.values():  # not left running for the next tests
            os.killpg(group, signal.SIGKILL)
        raise
    wait_for(lambda: all(gone(pid) for pid in workers), 30, f"the study's workers {workers} to end")

    stored = stored_trials(store, "killed")
    assert stored[0].state == TrialState.SUCCEEDED
    assert all(stored[n].state == TrialState.RUNNING for n in SLEEPERS)  # as the killed process left them

    status, out, err = finished("nni", config, "--resume", "--name", "killed", "--trials", "2", store=store)
    assert status == 0, err
    resumed = stored_trials(store, "killed")
    assert resumed[0] == stored[0]  # the finished trial, kept as it was
    assert all((resumed[n].state, resumed[n].reason) == (TrialState.FAILED, LOST_REASON) for n in SLEEPERS)
    assert sorted(resumed) == [0, 1, 2, 3, 4]
    assert all(resumed[n].state == TrialState.SUCCEEDED for n in (3, 4))
    assert "study 'killed': 5 trials (3 succeeded, 2 failed)" in out
