"""Trials in real worker processes: concurrency, GPU slots, reports, limits, faults and interrupts.

A scripted tuner hands out configurations in a fixed order, and each configuration's ``action``
says what its trial does (sleep, raise, die, hang, report), so every test knows which trial meets
which fate. Workers measure their own start and end times, pids and environment, and send them
back as metrics.
"""

from __future__ import annotations

import ctypes
import json
import os
import re
import resource
import signal
import subprocess
import sys
import textwrap
import threading
import time
import types
from pathlib import Path

import psutil
import pytest
from joblib.externals.loky import cpu_count

import autotune_nb as at
from autotune_nb import ConfigurationError, TrialState
from autotune_nb.execution.pool import LocalPool
from autotune_nb.testing.scripted import (  # also registers the "Scripted" tuner
    max_overlap,
    sleeps,
)

pytestmark = pytest.mark.timeout(60)

REPO = Path(__file__).resolve().parents[2]
ACTIONS = ["sleep", "raise", "exit", "kill", "segfault", "oom", "unpicklable", "hang", "report_high", "report_low"]
SPACE = {"action": at.choice(ACTIONS), "t": at.uniform(0, 60)}


def scripted_trial(params):
    action, seconds = params["action"], params["t"]
    started = time.time()
    if action in ("hang", "sleep"):
        at.report(os.getpid())  # the test learns which process runs the trial
        time.sleep(seconds)
    elif action == "raise":
        time.sleep(seconds)
        raise ValueError("boom in a trial")
    elif action == "exit":
        os._exit(3)
    elif action == "kill":
        os.kill(os.getpid(), signal.SIGKILL)
    elif action == "segfault":
        ctypes.string_at(0)
    elif action == "oom":
        allocate_past_a_memory_limit()
    elif action == "unpicklable":
        return {"default": 0.0, "lock": threading.Lock()}
    elif action.startswith("report"):
        value = 1.0 if action == "report_high" else 0.0
        for _ in range(3 if action == "report_high" else 50):
            at.report(value)
            time.sleep(0.05)
    return {"default": seconds, "pid": os.getpid(), "t0": started, "t1": time.time(),
            "cuda": os.environ.get("CUDA_VISIBLE_DEVICES"), "omp": os.environ.get("OMP_NUM_THREADS")}


def allocate_past_a_memory_limit():
    limits = resource.getrlimit(resource.RLIMIT_AS)
    resource.setrlimit(resource.RLIMIT_AS, (psutil.Process().memory_info().vms + (256 << 20), limits[1]))
    try:
        bytearray(1 << 30)
    finally:
        resource.setrlimit(resource.RLIMIT_AS, limits)


def run_scripted(configs, *, assessor=None, assessor_args=None, subscriber=None, **run_options):
    study = at.Study(SPACE, tuner="Scripted", tuner_args={"configs": configs},
                     assessor=assessor, assessor_args=assessor_args)
    if subscriber is not None:
        study.subscribe(lambda event: subscriber(study, event))
    run_options.setdefault("max_trials", len(configs))
    return study.run(scripted_trial, **run_options)


def worker_pids(trials):
    return {int(trial.intermediates[0][1]) for trial in trials if trial.intermediates}


def assert_processes_gone(pids):
    alive = [pid for pid in pids if psutil.pid_exists(pid) and psutil.Process(pid).status() != psutil.STATUS_ZOMBIE]
    assert not alive, f"worker processes still alive: {alive}"


# --- concurrency and slots -----------------------------------------------------------------------
def test_trials_overlap_in_reused_cpu_only_workers():
    study = run_scripted(sleeps(0.3, 8), max_trials=6, concurrency=2)

    trials = study.trials
    assert len(trials) == 6 and all(t.state == TrialState.SUCCEEDED for t in trials)
    intervals = [(t.metrics["t0"], t.metrics["t1"]) for t in trials]
    assert max_overlap(intervals) == 2
    assert max(end for _, end in intervals) - min(start for start, _ in intervals) < 0.8 * 6 * 0.3
    pids = {t.metrics["pid"] for t in trials}
    assert len(pids) == 2 and os.getpid() not in pids  # two processes, each reused for 3 trials
    assert {t.slot for t in trials} == {0, 1} and {t.gpu for t in trials} == {None}
    assert {t.metrics["cuda"] for t in trials} == {""}
    assert {t.metrics["omp"] for t in trials} == {os.environ.get("OMP_NUM_THREADS", str(max(1, cpu_count() // 2)))}
    assert_processes_gone(pids)


def test_gpu_slots_pin_each_worker_to_one_gpu_and_cap_trials_per_gpu():
    study = run_scripted(sleeps(0.25, 8), gpus=[0, "1"], trials_per_gpu=2)

    trials = study.trials
    assert all(t.state == TrialState.SUCCEEDED for t in trials)
    assert all(t.metrics["cuda"] == t.gpu for t in trials)
    assert {t.slot for t in trials} == {0, 1, 2, 3} and {t.gpu for t in trials} == {"0", "1"}
    gpu_of_pid = {}
    for trial in trials:
        assert gpu_of_pid.setdefault(trial.metrics["pid"], trial.gpu) == trial.gpu  # one GPU per process
    for gpu in ("0", "1"):
        on_gpu = [(t.metrics["t0"], t.metrics["t1"]) for t in trials if t.gpu == gpu]
        assert max_overlap(on_gpu) <= 2
    assert max_overlap([(t.metrics["t0"], t.metrics["t1"]) for t in trials]) >= 3
    assert {t.metrics["omp"] for t in trials} == {os.environ.get("OMP_NUM_THREADS", str(max(1, cpu_count() // 4)))}


def test_a_pool_can_change_what_workers_see_and_serve_two_studies():
    pool = LocalPool(1, env={"CUDA_VISIBLE_DEVICES": "7", "OMP_NUM_THREADS": 3})
    first, second = (run_scripted(sleeps(0.0, 1), executor=pool).trials[0] for _ in range(2))
    assert (first.metrics["cuda"], first.metrics["omp"]) == ("7", "3")
    assert second.state == TrialState.SUCCEEDED and second.metrics["pid"] != first.metrics["pid"]


@pytest.mark.parametrize("options, named", [
    ({"concurrency": 0}, "concurrency must be an integer >= 1, got 0"),
    ({"concurrency": 1.5}, "got 1.5"),
    ({"trials_per_gpu": 0, "gpus": [0]}, "trials_per_gpu must be an integer >= 1, got 0"),
    ({"trials_per_gpu": 2}, "trials_per_gpu=2 needs gpus"),
    ({"gpus": "0,1"}, "got '0,1'"),
    ({"gpus": []}, "gpus=[]"),
    ({"gpus": [0, "0"]}, "GPU '0' more than once"),
    ({"gpus": [-1]}, "-1 is not a GPU id"),
    ({"gpus": ["0,1"]}, "'0,1' is not a GPU id"),
    ({"gpus": [True]}, "True is not a GPU id"),
    ({"gpus": [0, 1], "trials_per_gpu": 2, "concurrency": 3}, "concurrency=3 disagrees"),
    ({"executor": "inline", "concurrency": 2}, "executor='inline' runs one trial at a time"),
    ({"executor": "threads"}, "got 'threads'"),
    ({"executor": LocalPool(2), "concurrency": 2}, "concurrency=2 cannot resize"),
])
def test_invalid_slot_settings_are_refused_by_name(options, named):
    with pytest.raises(ConfigurationError, match=re.escape(named)):
        run_scripted(sleeps(0.0, 1), **options)


def test_a_function_that_cannot_be_pickled_is_refused_before_any_trial():
    lock = threading.Lock()
    study = at.Study(SPACE, tuner="Scripted", tuner_args={"configs": sleeps(0.0, 1)})
    with pytest.raises(ConfigurationError, match="cannot be pickled.*executor='inline'"):
        study.run(lambda params: lock.locked(), max_trials=1)
    assert study.trials == []


def test_a_function_that_cannot_be_loaded_in_a_worker_is_refused_before_any_trial(monkeypatch):
    only_here = types.ModuleType("module_only_in_the_study_process")
    exec("def trial(params):\n    return 1.0\n", only_here.__dict__)
    monkeypatch.setitem(sys.modules, only_here.__name__, only_here)  # pickled by reference, not found there
    study = at.Study(SPACE, tuner="Scripted", tuner_args={"configs": sleeps(0.0, 1)})
    with pytest.raises(ConfigurationError, match="cannot be loaded in a worker process.*module_only_in_the_study"):
        study.run(only_here.trial, max_trials=1)
    assert study.trials == []


# --- reports and the assessor --------------------------------------------------------------------
def test_reports_reach_the_study_and_a_stop_ends_the_trial_early():
    configs = [{"action": "report_high", "t": 0.0}] * 2 + [{"action": "report_low", "t": 0.0}]
    study = run_scripted(configs, concurrency=2, assessor="Medianstop", assessor_args={"start_step": 1})

    high, _, low = study.trials
    assert high.state == TrialState.SUCCEEDED and high.intermediates == ((1, 1.0), (2, 1.0), (3, 1.0))
    assert low.state == TrialState.EARLY_STOPPED
    assert low.intermediates == ((1, 0.0),)  # the report the assessor stopped raised in the worker
    assert at.report(1.0) is None  # outside a study: nothing happens


# --- limits ----------------------------------------------------------------------------------------
def test_trial_timeout_ends_only_the_slow_trial_and_kills_its_worker():
    configs = [{"action": "hang", "t": 60}] + sleeps(0.1, 3)
    study = run_scripted(configs, concurrency=2, trial_timeout=1.0)

    hung, *quick = study.trials
    assert hung.state == TrialState.TIMEOUT and "trial_timeout=1s" in hung.reason
    assert all(t.state == TrialState.SUCCEEDED for t in quick)
    assert_processes_gone(worker_pids([hung]))


def test_max_duration_ends_the_study_with_running_trials_timed_out():
    began = time.monotonic()  # the budget includes starting the workers: leave room for a busy machine
    study = run_scripted([{"action": "hang", "t": 60}] * 4, concurrency=2, max_duration=3.0)

    assert time.monotonic() - began < 5.0
    assert [t.state for t in study.trials] == [TrialState.TIMEOUT] * 2
    assert all("max_duration" in t.reason for t in study.trials)
    assert_processes_gone(worker_pids(study.trials))


# --- faults ----------------------------------------------------------------------------------------
def test_faults_fail_only_their_own_trial_and_the_pool_recovers():
    fates = ["raise", "exit", "kill", "segfault", "oom", "unpicklable"]
    configs = sleeps(0.8, 1) + [{"action": fate, "t": 0.0} for fate in fates] + sleeps(0.1, 2)
    study = run_scripted(configs, concurrency=2, max_failures=10)

    first, *faulty, after_1, after_2 = study.trials
    assert [t.state for t in (first, after_1, after_2)] == [TrialState.SUCCEEDED] * 3
    assert [t.state for t in faulty] == [TrialState.FAILED] * len(fates)
    raised, exited, killed, crashed, out_of_memory, unpicklable = faulty
    assert "ValueError: boom in a trial" in raised.error and "scripted_trial" in raised.error
    assert raised.reason == "ValueError: boom in a trial"
    assert "exit code 3" in exited.reason
    assert "SIGKILL (exit code -9)" in killed.reason and "out of memory" in killed.reason
    assert "SIGSEGV (exit code -11)" in crashed.reason
    assert "MemoryError" in out_of_memory.error
    assert "could not be sent back" in unpicklable.reason and "pickle" in unpicklable.error


def test_max_failures_stops_a_study_whose_trials_all_fail():
    study = run_scripted([{"action": "raise", "t": 0.2}] * 10, concurrency=2, max_failures=2)

    states = [t.state for t in study.trials]
    assert 2 <= len(states) < 10
    assert states[:2] == [TrialState.FAILED] * 2
    assert set(states) <= {TrialState.FAILED, TrialState.CANCELED}
    assert "max_failures" in study.stop_reason


# --- stop and interrupt ------------------------------------------------------------------------------
def test_stop_cancels_running_trials_at_once_and_keeps_finished_ones():
    stopped_at = []

    def stop_once_one_finished_and_two_hang(study, event):
        trials = study.trials
        hanging = [t for t in trials if t.params["action"] == "hang" and t.intermediates]
        if not stopped_at and trials[0].state.is_finished and len(hanging) == 2:
            stopped_at.append(time.monotonic())
            study.stop()

    children_before = {p.pid for p in psutil.Process().children(recursive=True)}
    study = run_scripted(sleeps(0.1, 1) + [{"action": "hang", "t": 60}] * 4, concurrency=2,
                         subscriber=stop_once_one_finished_and_two_hang)
    returned_at = time.monotonic()

    first, *rest = study.trials
    assert first.state == TrialState.SUCCEEDED
    assert len(rest) == 2 and all(t.state == TrialState.CANCELED for t in rest)
    assert returned_at - stopped_at[0] < 1.0
    assert_processes_gone(worker_pids(rest))
    new_children = [p for p in psutil.Process().children(recursive=True) if p.pid not in children_before]
    assert all("resource_tracker" in " ".join(p.cmdline()) for p in new_children)  # loky's, shared


CHILD_SCRIPT = textwrap.dedent("""
    import json, os, sys, threading, time
    import autotune_nb as at
    import autotune_nb.testing.scripted  # registers the "Scripted" tuner

    def trial(params):
        at.report(os.getpid())
        time.sleep(params["t"])
        return params["t"]

    printing = threading.Lock()  # "reported" and "finished" events come from two threads

    def show(event):
        with printing:
            print(json.dumps({"event": event.kind, "number": event.trial.number,
                              "state": event.trial.state.value}), flush=True)

    configs = [{"t": 0.1}, {"t": 0.1}] + [{"t": 60.0}] * 4
    study = at.Study({"t": at.uniform(0, 60)}, tuner="Scripted", tuner_args={"configs": configs})
    study.subscribe(show)
    study.run(trial, max_trials=6, concurrency=2)
    print(json.dumps({"final": [{"number": t.number, "state": t.state.value, "reason": t.reason,
                                 "pid": int(t.intermediates[0][1]) if t.intermediates else None}
                                for t in study.trials]}), flush=True)
""")


def test_sigint_in_a_study_process_cancels_running_trials_and_keeps_finished_ones():
    child = subprocess.Popen([sys.executable, "-c", CHILD_SCRIPT], cwd=REPO, stdout=subprocess.PIPE, text=True,
                             env={**os.environ, "PYTHONPATH": str(REPO)})
    try:
        succeeded, hanging = set(), set()
        for line in child.stdout:
            message = json.loads(line)
            if message["event"] == "finished" and message["state"] == "SUCCEEDED":
                succeeded.add(message["number"])
            elif message["event"] == "reported" and message["number"] >= 2:
                hanging.add(message["number"])
            if len(succeeded) == 2 and len(hanging) == 2:
                break
        else:
            pytest.fail(f"the study process ended early with code {child.wait()}")
        child.send_signal(signal.SIGINT)
        final = next(message["final"] for message in map(json.loads, child.stdout) if "final" in message)
        assert child.wait(timeout=20) == 0
    finally:
        child.kill()

    states = {trial["number"]: trial["state"] for trial in final}
    assert states == {0: "SUCCEEDED", 1: "SUCCEEDED", 2: "CANCELED", 3: "CANCELED"}
    assert all(trial["reason"] == "study interrupted" for trial in final[2:])
    assert_processes_gone({trial["pid"] for trial in final})
