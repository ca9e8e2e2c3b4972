"""NNI experiment folders whose trial is a command: ``run_nni_experiment`` on real subprocesses.

The trial program (plain Python, written below) reads its parameters and reports through ``import
nni``, and notes what it saw (environment, folder, which ``nni``) in its NNI_OUTPUT_DIR. A
grandchild process it starts must end with its trial, however the trial ends.
"""

from __future__ import annotations

import json
import os
import signal
import textwrap
import threading

import psutil
import pytest

from autotune_nb.execution.base import Slot
from autotune_nb.execution.command_trial import GROUP_FILE_NAME, log_path, trial_folder
from autotune_nb.execution.pool import worker_env
from autotune_nb.nni_experiment import prepare_nni_experiment, run_nni_experiment
from autotune_nb.study import Study
from autotune_nb.testing.waiting import wait_for
from autotune_nb.trial import TrialState

pytestmark = pytest.mark.timeout(300)

PROGRAM = '''
import json, os, subprocess, sys, time
import nni

mode = sys.argv[1]
params = nni.get_next_parameter()
out = os.environ["NNI_OUTPUT_DIR"]

def note(name, value):
    with open(os.path.join(out, name + ".json"), "w") as file:
        json.dump(value, file)

names = ("NNI_PLATFORM", "NNI_EXP_ID", "NNI_TRIAL_JOB_ID", "NNI_TRIAL_SEQ_ID", "NNI_SYS_DIR", "NNI_OUTPUT_DIR",
         "CUDA_VISIBLE_DEVICES", "OMP_NUM_THREADS")
note("seen", {"env": {name: os.environ.get(name) for name in names}, "cwd": os.getcwd(), "nni": nni.__name__,
              "params": params, "trial_id": nni.get_trial_id(), "experiment_id": nni.get_experiment_id()})
if mode in ("curve", "sleep"):
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
    note("grandchild", child.pid)
if mode == "success":
    print("hello from", params)
    nni.report_final_result({"default": params["x"], "double": 2 * params["x"]})
elif mode == "curve":
    for step in range(1, 7):
        nni.report_intermediate_result(params["x"] * step)
        time.sleep(0.1)
    nni.report_final_result(params["x"] * 6)
elif mode == "crash":
    for i in range(30):
        print(f"output line {i}")
    1 / 0
elif mode == "no_final":
    print("finished without a result")
elif mode == "budget":
    for step in range(1, int(params["TRIAL_BUDGET"]) + 1):
        nni.report_intermediate_result(params["x"] * step)
    nni.report_final_result(params["x"] * params["TRIAL_BUDGET"])
elif mode == "sleep":
    note("sleeping", True)
    time.sleep(600)
'''


def experiment(folder, mode: str, space: dict | None = None, **fields) -> str:
    """An NNI experiment folder running ``trial.py MODE``; returns its config's path."""
    code = folder / "code"
    code.mkdir(parents=True, exist_ok=True)
    (code / "trial.py").write_text(PROGRAM)
    config = {"experimentName": mode, "searchSpace": space or {"x": {"_type": "uniform", "_value": [0, 1]}},
              "trialCommand": f"python3 trial.py {mode}", "trialCodeDirectory": "code",
              "tuner": {"name": "Random", "classArgs": {"optimize_mode": "maximize"}}, **fields}
    config = {key: value for key, value in config.items() if value is not None}  # tuner=None: an advisor's
    path = folder / "config.yml"
    path.write_text(json.dumps(config))  # JSON is YAML
    return str(path)


def noted(study, number: int, name: str):
    with open(os.path.join(trial_folder(study.folder, number), name + ".json")) as file:
        return json.load(file)


def gone(pid: int) -> bool:
    """The process has ended (a zombie left to a parent that does not reap it has ended too)."""
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def test_a_successful_command_reports_its_result_in_its_nni_environment(tmp_path, monkeypatch):
    fake = tmp_path / "site" / "nni"  # a "real" nni installed: the trial must import ours all the same
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text("raise ImportError('the real nni was imported')\n")
    monkeypatch.setenv("PYTHONPATH", str(tmp_path / "site"))
    study = run_nni_experiment(experiment(tmp_path, "success"), max_trials=3, concurrency=2, seed=0)

    assert [t.state for t in study.trials] == [TrialState.SUCCEEDED] * 3
    threads = os.environ.get("OMP_NUM_THREADS") or worker_env(Slot(0), 2)["OMP_NUM_THREADS"]  # inherited if set
    for trial in study.trials:
        seen = noted(study, trial.number, "seen")
        folder = trial_folder(study.folder, trial.number)
        assert trial.value == seen["params"]["x"] and trial.metrics == {"double": 2 * seen["params"]["x"]}
        assert seen["env"] == {"NNI_PLATFORM": "local", "NNI_EXP_ID": study.name,
                               "NNI_TRIAL_JOB_ID": str(trial.number), "NNI_TRIAL_SEQ_ID": str(trial.number),
                               "NNI_SYS_DIR": folder, "NNI_OUTPUT_DIR": folder, "CUDA_VISIBLE_DEVICES": "",
                               "OMP_NUM_THREADS": threads}
        assert seen["cwd"] == str(tmp_path / "code")
        assert (seen["nni"], seen["trial_id"], seen["experiment_id"]) == ("autotune_nb.nni_api", str(trial.number),
                                                                          study.name)
        assert trial.log_path == log_path(study.folder, trial.number)
        assert "hello from" in open(trial.log_path).read()


def test_medianstop_stops_the_worse_commands_and_their_process_groups_end(tmp_path):
    space = {"x": {"_type": "choice", "_value": [10, 9, 2, 1]}}
    config = experiment(tmp_path, "curve", space, assessor={"name": "Medianstop", "classArgs": {"start_step": 2}})
    study = run_nni_experiment(config, max_trials=4, concurrency=1, tuner="GridSearch", seed=0)

    states = {t.params["x"]: t.state for t in study.trials}
    assert states == {10: TrialState.SUCCEEDED, 9: TrialState.SUCCEEDED, 2: TrialState.EARLY_STOPPED,
                      1: TrialState.EARLY_STOPPED}
    stopped = [t for t in study.trials if t.state == TrialState.EARLY_STOPPED]
    assert all(len(t.intermediates) < 6 for t in stopped)
    grandchildren = [noted(study, t.number, "grandchild") for t in study.trials]
    wait_for(lambda: all(gone(pid) for pid in grandchildren), 30, "the grandchildren to end with their trials")


def test_a_crash_fails_with_its_status_and_last_output_and_a_silent_exit_with_no_final_result(tmp_path):
    crashed = run_nni_experiment(experiment(tmp_path / "a", "crash"), max_trials=1, max_failures=0)
    trial = crashed.trials[0]
    assert trial.state == TrialState.FAILED
    assert trial.reason == "the command exited with status 1"
    assert "ZeroDivisionError" in trial.error and "output line 29" in trial.error
    assert "output line 5\n" not in trial.error  # the tail only: the whole output is in the log
    assert trial.log_path in trial.error and "output line 0" in open(trial.log_path).read()
    assert Study.load(crashed.name).trials[0].log_path == trial.log_path  # found again in the study's folder

    silent = run_nni_experiment(experiment(tmp_path / "b", "no_final"), max_trials=1, max_failures=0).trials[0]
    assert silent.state == TrialState.FAILED
    assert silent.reason.startswith("no final result reported")
    assert "finished without a result" in silent.error


def test_max_trial_duration_ends_the_command_and_its_grandchild_as_timeout(tmp_path):
    study = run_nni_experiment(experiment(tmp_path, "sleep", maxTrialDuration="3s"), max_trials=1)
    trial = study.trials[0]
    assert trial.state == TrialState.TIMEOUT
    grandchild = noted(study, trial.number, "grandchild")
    wait_for(lambda: gone(grandchild), 30, f"the grandchild {grandchild} to end after the timeout")


def test_stop_cancels_the_command_and_no_grandchild_survives(tmp_path):
    prepared = prepare_nni_experiment(experiment(tmp_path, "sleep"), max_trials=2, concurrency=2)
    study = prepared.study
    runner = threading.Thread(target=prepared.run)
    runner.start()
    sleeping = [os.path.join(trial_folder(study.folder, n), "sleeping.json") for n in (0, 1)]
    wait_for(lambda: all(os.path.exists(path) for path in sleeping), 60, "both commands to start")
    grandchildren = [noted(study, n, "grandchild") for n in (0, 1)]
    study.stop()
    runner.join(60)
    assert not runner.is_alive()
    assert [t.state for t in study.trials] == [TrialState.CANCELED] * 2
    wait_for(lambda: all(gone(pid) for pid in grandchildren), 30, f"the grandchildren {grandchildren} to end")


def test_hyperband_advisor_gives_each_command_its_bracket_s_budget_as_trial_budget(tmp_path):
    advisor = {"name": "Hyperband", "classArgs": {"R": 9, "eta": 3, "exec_mode": "serial",
                                                  "optimize_mode": "maximize"}}
    config = experiment(tmp_path, "budget", advisor=advisor, tuner=None, trialConcurrency=2)
    study = run_nni_experiment(config, max_trials=22, seed=0)

    # one Hyperband iteration for R=9, eta=3: brackets s=2 (9 at 1, 3 at 3, 1 at 9), s=1 (5 at 3, 1 at 9), s=0 (3 at 9)
    expected = [(0, 0, 1.0)] * 9 + [(0, 1, 3.0)] * 3 + [(0, 2, 9.0)] + [(1, 0, 3.0)] * 5 + [(1, 1, 9.0)] + \
        [(2, 0, 9.0)] * 3
    trials = study.trials
    assert [(t.directives.bracket, t.directives.rung, t.directives.budget) for t in trials] == expected
    assert [t.state for t in trials] == [TrialState.SUCCEEDED] * 22 and study.state.value == "finished"
    by_number = {t.number: t for t in trials}
    for trial in trials:
        budget = trial.directives.budget
        seen = noted(study, trial.number, "seen")
        folder = os.path.join(study.folder, "checkpoints", str(trial.number))  # the parents saved none
        assert seen["params"] == {"x": trial.params["x"], "TRIAL_BUDGET": budget, "load_checkpoint_dir": folder,
                                  "save_checkpoint_dir": folder}
        assert trial.params == {"x": seen["params"]["x"]}  # the budget is no parameter of the study's
        assert [step for step, _ in trial.intermediates] == list(range(1, int(budget) + 1))
        assert trial.value == pytest.approx(trial.params["x"] * budget)
        if trial.directives.rung > 0:  # promoted: the best of its rung below, same configuration
            parent = by_number[trial.directives.parent]
            assert parent.params == trial.params
            assert (parent.directives.bracket, parent.directives.rung) == (trial.directives.bracket,
                                                                          trial.directives.rung - 1)
            below = [t for t in trials if (t.directives.bracket, t.directives.rung) == (parent.directives.bracket,
                                                                                        parent.directives.rung)]
            promoted = {t.directives.parent for t in trials if (t.directives.bracket, t.directives.rung) ==
                        (trial.directives.bracket, trial.directives.rung)}
            assert promoted == {t.number for t in sorted(below, key=lambda t: -t.value)[:len(below) // 3]}
    stored = Study.load(study.name).trials
    assert [(t.number, t.state, t.directives, t.value) for t in stored] == \
        [(t.number, t.state, t.directives, t.value) for t in trials]


def test_bohb_advisor_gives_each_command_its_rung_s_budget_as_trial_budget(tmp_path):
    advisor = {"name": "BOHB", "classArgs": {"min_budget": 1, "max_budget": 9, "eta": 3, "optimize_mode": "maximize"}}
    config = experiment(tmp_path, "budget", advisor=advisor, tuner=None, trialConcurrency=2)
    study = run_nni_experiment(config, max_trials=16, seed=0)

    assert len(study.trials) == 16 and all(t.state == TrialState.SUCCEEDED for t in study.trials)
    for trial in study.trials:
        s = 2 - trial.directives.bracket % 3  # brackets s = 2, 1, 0, then again
        assert trial.directives.budget == 9 * 3.0 ** (trial.directives.rung - s)
        assert noted(study, trial.number, "seen")["params"]["TRIAL_BUDGET"] == trial.directives.budget
        assert len(trial.intermediates) == trial.directives.budget


def test_a_worker_killed_with_sigkill_takes_its_command_and_grandchild_with_it(tmp_path):
    prepared = prepare_nni_experiment(experiment(tmp_path, "sleep"), max_trials=1)
    study = prepared.study
    runner = threading.Thread(target=prepared.run)
    runner.start()
    group_file = os.path.join(trial_folder(study.folder, 0), GROUP_FILE_NAME)
    wait_for(lambda: os.path.exists(os.path.join(trial_folder(study.folder, 0), "sleeping.json")), 60,
             "the command to start")
    wait_for(lambda: os.path.exists(group_file) and os.path.getsize(group_file), 30, "its process-group file")
    with open(group_file) as file:
        leader = int(file.read())
    grandchild = noted(study, 0, "grandchild")
    os.kill(psutil.Process(leader).ppid(), signal.SIGKILL)  # the worker, as the OOM killer would
    runner.join(60)
    assert not runner.is_alive()
    assert study.trials[0].state == TrialState.FAILED and study.trials[0].reason.startswith("worker died")
    wait_for(lambda: gone(leader) and gone(grandchild), 30, f"the command {leader} and its grandchild {grandchild} "
             "to end with their worker")


ANNOTATED = '''
"""An NNI program with annotations."""
import sys

def score(depth):
    """@nni.variable(nni.uniform(0, 1), name=bonus)"""
    bonus = 0.0
    return depth * 10 + bonus

"""@nni.variable(nni.choice(1, 2, 3), name=depth)"""
depth = 0
print("depth", depth)
"""@nni.report_final_result(score(depth))"""
'''


def test_use_annotation_runs_a_transformed_copy_of_the_code_folder(tmp_path):
    code = tmp_path / "code"
    code.mkdir()
    (code / "main.py").write_text(ANNOTATED)
    (code / "data.txt").write_text("kept")
    (tmp_path / "config.yml").write_text(textwrap.dedent("""\
        experimentName: annotated
        trialCommand: python3 main.py
        trialCodeDirectory: code
        useAnnotation: true
        tuner:
          name: Random
    """))
    study = run_nni_experiment(str(tmp_path / "config.yml"), max_trials=4, seed=1)

    assert study.config.space == {"bonus": {"_type": "uniform", "_value": [0, 1]},
                                  "depth": {"_type": "choice", "_value": [1, 2, 3]}}
    for trial in study.trials:
        assert trial.state == TrialState.SUCCEEDED
        assert trial.value == pytest.approx(trial.params["depth"] * 10 + trial.params["bonus"])
    copy = os.path.join(study.folder, "code")
    assert open(os.path.join(copy, "data.txt")).read() == "kept"
    assert "@nni" not in open(os.path.join(copy, "main.py")).read()
    assert (code / "main.py").read_text() == ANNOTATED  # the user's folder is left as it was


def test_each_command_sees_its_slots_gpu(tmp_path):
    study = run_nni_experiment(experiment(tmp_path, "success"), max_trials=4, gpus=["0", "1"])
    seen = {t.number: noted(study, t.number, "seen")["env"]["CUDA_VISIBLE_DEVICES"] for t in study.trials}
    assert all(seen[t.number] == t.gpu for t in study.trials)
    assert set(seen.values()) == {"0", "1"}


def test_an_experiment_without_a_trial_command_is_refused(tmp_path):
    path = tmp_path / "config.yml"
    path.write_text("searchSpace: {x: {_type: uniform, _value: [0, 1]}}\n")
    with pytest.raises(Exception, match="has no trialCommand"):
        run_nni_experiment(str(path))
    with pytest.raises(Exception, match="'trials'"):
        run_nni_experiment(experiment(tmp_path, "success"), trials=3)

