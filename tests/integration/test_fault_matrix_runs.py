"""Fault matrix, runs and the store: each case is a way a finished trial used to be lost, a study to
crash or a bad value to slip through (the reliability issue's items 1-6, 13-15). Real processes and
real SQLite files; each test failed on the code before the fix."""

from __future__ import annotations

import json
import math
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import threading
import time

import pytest

import autotune_nb as at
from autotune_nb.errors import ConfigurationError, StoreError, StudyBusyError
from autotune_nb.store import LEASE_TIMEOUT_S, LOST_REASON, StudyStore
from autotune_nb.testing.waiting import run_in_thread, wait_for
from autotune_nb.trial import TrialState

pytestmark = pytest.mark.timeout(120)

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SPACE = {"x": at.uniform(0, 1)}


def python(code: str, *args: str) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": REPO}
    return subprocess.Popen([sys.executable, "-c", textwrap.dedent(code), *args], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)



def stored_trials(path: str, name: str) -> list:
    with StudyStore(path) as store:
        return store.load_study(name)[1]


@pytest.fixture
def path(tmp_path) -> str:
    return os.fspath(tmp_path / "studies.db")


# --- 1. a second process cannot resume a study that a live process runs --------------------------
RUN_SHARED = """
    import sys, time
    import autotune_nb as at
    study = at.Study({"x": at.uniform(0, 1)}, tuner="Random", seed=0, name="shared", storage=sys.argv[1])
    def slow(params):
        time.sleep(0.4)
        return 100.0
    study.run(slow, max_trials=12, executor="inline")
    print("done", flush=True)
"""

RESUME_SHARED = """
    import sys
    import autotune_nb as at
    from autotune_nb.errors import StudyBusyError
    study = at.Study.load("shared", storage=sys.argv[1])
    try:
        study.resume(lambda p: -1.0, max_trials=4, executor="inline")
    except StudyBusyError as exc:
        print("busy:", exc, flush=True)
    else:
        print("ran", [t.number for t in study.trials], flush=True)
"""


def test_a_second_process_cannot_resume_a_running_study_and_nothing_is_lost(path):
    owner = python(RUN_SHARED, path)
    try:
        wait_for(lambda: os.path.exists(path) and len(_rows(path, "shared")) >= 2, 30, "two trials of the owner")
        intruder = python(RESUME_SHARED, path)
        out, err = intruder.communicate(timeout=60)
        assert intruder.returncode == 0, err
        assert out.startswith("busy: study 'shared'") and f"process {owner.pid}" in out, out
        out, err = owner.communicate(timeout=60)
        assert owner.returncode == 0 and "done" in out, err
    finally:
        owner.kill()
    trials = stored_trials(path, "shared")
    assert [t.number for t in trials] == list(range(12))
    assert all(t.state == TrialState.SUCCEEDED and t.value == 100.0 for t in trials)
    # Once the owner has ended, the same resume runs, numbering after the owner's trials.
    later = python(RESUME_SHARED, path)
    out, err = later.communicate(timeout=60)
    assert later.returncode == 0 and out.strip() == f"ran {list(range(16))}", (out, err)
    assert [t.value for t in stored_trials(path, "shared")[12:]] == [-1.0] * 4


def _rows(path: str, name: str) -> list:
    with sqlite3.connect(path, timeout=10) as connection:
        try:
            return connection.execute("SELECT number, state FROM trials WHERE study = ?", (name,)).fetchall()
        except sqlite3.OperationalError:  # the tables are not made yet
            return []


def test_a_dead_owners_lease_is_taken_over_at_once_and_its_running_trial_marked_lost(path):
    owner = python(RUN_SHARED, path)
    try:
        wait_for(lambda: os.path.exists(path) and any(state == "RUNNING" for _, state in _rows(path, "shared"))
                 and len(_rows(path, "shared")) >= 3, 30, "a running trial of the owner")
    finally:
        os.kill(owner.pid, signal.SIGKILL)
        owner.communicate(timeout=30)
    kept = stored_trials(path, "shared")
    study = at.Study.load("shared", storage=path)
    study.resume(lambda p: -1.0, max_trials=2, executor="inline")
    after = {t.number: t for t in stored_trials(path, "shared")}
    last = max(t.number for t in kept)
    assert after[last].state == TrialState.FAILED and after[last].reason == LOST_REASON
    assert all(after[t.number] == t for t in kept if t.state == TrialState.SUCCEEDED)
    assert [after[n].value for n in (last + 1, last + 2)] == [-1.0, -1.0]


def _set_lease(path: str, name: str, host: str, heartbeat_age: float) -> None:
    owner = json.dumps({"host": host, "pid": 1, "started": "1", "run": "elsewhere"})
    with sqlite3.connect(path) as connection:
        connection.execute("UPDATE studies SET owner = ?, heartbeat = ? WHERE name = ?",
                           (owner, time.time() - heartbeat_age, name))


def test_a_lease_from_another_host_holds_while_its_heartbeat_is_fresh(path):
    study = at.Study(SPACE, tuner="Random", seed=0, name="remote", storage=path)
    study.run(lambda p: p["x"], max_trials=2, executor="inline")
    _set_lease(path, "remote", "another-host", heartbeat_age=1.0)
    with pytest.raises(StudyBusyError, match=r"process 1 on another-host, last heartbeat 1\.\ds ago"):
        at.Study.load("remote", storage=path).resume(lambda p: p["x"], max_trials=1, executor="inline")
    assert len(stored_trials(path, "remote")) == 2
    _set_lease(path, "remote", "another-host", heartbeat_age=LEASE_TIMEOUT_S + 1)
    resumed = at.Study.load("remote", storage=path).resume(lambda p: p["x"], max_trials=1, executor="inline")
    assert [t.number for t in resumed.trials] == [0, 1, 2]


def test_a_run_whose_lease_was_taken_over_does_not_overwrite_the_new_owners_trials(path):
    started = threading.Event()
    study = at.Study(SPACE, tuner="Random", seed=0, name="taken", storage=path)

    def trial(params):
        if not started.is_set():
            started.set()
            time.sleep(1.0)  # meanwhile another host takes the study over
        return 1.0

    errors: list[str] = []

    def run() -> None:
        try:
            study.run(trial, max_trials=1, executor="inline")
        except StoreError as exc:
            errors.append(str(exc))

    runner = threading.Thread(target=run)
    runner.start()
    started.wait(10)
    time.sleep(0.2)
    _set_lease(path, "taken", "another-host", heartbeat_age=0.0)
    runner.join(30)
    assert study.trials[0].state == TrialState.SUCCEEDED  # kept in memory
    assert [t.state for t in stored_trials(path, "taken")] == [TrialState.RUNNING]  # untouched on disk
    assert len(errors) == 1 and "now run by process 1 on another-host" in errors[0]


# --- 2. numbers are unique and never reused; unsaved trials are saved once the store works -------
def _document_with_numbers(tmp_path, numbers_values: dict[int, float]) -> str:
    source = at.Study(SPACE, tuner="Random", seed=0, direction="maximize", storage=None)
    source.run(lambda p: 0.0, max_trials=len(numbers_values), executor="inline")
    out = tmp_path / "source.json"
    source.to_json(out)
    document = json.loads(out.read_text())
    for trial, (number, value) in zip(document["trials"], numbers_values.items()):
        trial["number"], trial["value"] = number, value
    out.write_text(json.dumps(document))
    return os.fspath(out)


def test_gaps_in_trial_numbers_neither_crash_nor_overwrite(tmp_path, path):
    document = _document_with_numbers(tmp_path, {0: 1000.0, 5: 1005.0})
    study = at.Study.from_json(document, storage=path, name="gaps")
    study.resume(lambda p: 1.0, max_trials=4, max_failures=0, executor="inline")
    assert [t.number for t in study.trials] == [0, 5, 6, 7, 8, 9]
    assert study.best_value == 1005.0
    assert [(t.number, t.value) for t in stored_trials(path, "gaps")][:2] == [(0, 1000.0), (5, 1005.0)]
    failing = at.Study.from_json(document, storage=path, name="gaps-failing")
    failing.resume(lambda p: 1 / 0, max_trials=3, executor="inline")
    assert [t.number for t in failing.trials] == [0, 5, 6, 7, 8]


def _fill_the_disk(store: StudyStore) -> None:
    """Cap the file at its current size: SQLite then answers every growing write "disk is full"."""
    store._call(lambda c: c.execute(f"PRAGMA max_page_count = {c.execute('PRAGMA page_count').fetchone()[0]}"))


def test_trials_a_full_disk_refused_are_named_and_saved_once_it_has_room(path):
    store = StudyStore(path)
    study = at.Study(SPACE, tuner="Random", seed=0, name="full", storage=store)
    _fill_the_disk(store)
    big = "x" * 20_000  # each trial needs new pages
    with pytest.raises(StoreError, match=r"trial\(s\) 0, 1, 2 of study 'full' are not on disk"):
        study.run(lambda p: {"default": p["x"], "note": big}, max_trials=3, executor="inline")
    assert [t.state for t in study.trials] == [TrialState.SUCCEEDED] * 3  # kept in memory
    assert stored_trials(path, "full") == []
    store._call(lambda c: c.execute("PRAGMA max_page_count = 1073741823"))
    study.run(lambda p: {"default": p["x"], "note": big}, max_trials=2, executor="inline")
    on_disk = stored_trials(path, "full")
    assert [t.number for t in on_disk] == [0, 1, 2, 3, 4]
    assert on_disk == study.trials
    store.close()


# --- 3. a result that cannot become a finite float fails its trial only --------------------------
class RaisingFloat:
    def __float__(self):
        raise RuntimeError("no float here")


@pytest.mark.parametrize("result, named", [
    (10**400, "too large for a float"),
    ({"default": 10**400}, "the result's 'default' is 1000"),
    (RaisingFloat(), "RuntimeError: no float here"),
    (float("inf"), "the trial result is inf"),
    ("0.5", "the string '0.5'"),
])
def test_a_result_that_is_no_finite_number_fails_that_trial_only(path, result, named):
    study = at.Study(SPACE, tuner="Random", seed=0, name="results", storage=path)
    study.run(lambda p: result if p["x"] < 2 else 0, max_trials=3, max_failures=0, executor="inline")
    assert study.state == "finished"
    assert [t.state for t in study.trials] == [TrialState.FAILED] * 3
    assert named in study.trials[0].reason
    assert [t.state for t in stored_trials(path, "results")] == [TrialState.FAILED] * 3
    assert study.best_value is None


def test_a_report_of_a_string_is_refused_by_name():
    study = at.Study(SPACE, tuner="Random", seed=0, storage=None)
    seen = []
    study.run(lambda p: seen.append(_report_error(p)) or 1.0, max_trials=1, executor="inline")
    assert seen == ["the value given to at.report is the string '0.5': return a number, not its text"]


def _report_error(params) -> str:
    try:
        at.report("0.5")
    except at.errors.AutotuneError as exc:
        return str(exc)
    return "accepted"


# --- 4. the failure rule counts the current run ----------------------------------------------------
def test_a_study_whose_first_trials_all_failed_runs_again(path):
    study = at.Study(SPACE, tuner="Random", seed=0, name="broken-then-fixed", storage=path)
    study.run(lambda p: 1 / 0, max_trials=10, executor="inline")
    assert len(study.trials) == 5 and "first 5 trials of this run all failed" in study.stop_reason
    study.run(lambda p: p["x"], max_trials=3, executor="inline")
    assert [t.state for t in study.trials[5:]] == [TrialState.SUCCEEDED] * 3
    loaded = at.Study.load("broken-then-fixed", storage=path)
    loaded.resume(lambda p: p["x"], max_trials=2, executor="inline")
    assert len(loaded.trials) == 10 and loaded.trials[-1].state == TrialState.SUCCEEDED


# --- 6. a refused import writes nothing ------------------------------------------------------------
@pytest.mark.parametrize("damage, error", [
    (lambda d: d["study"]["tuner"].update(name="NoSuchTuner"), "NoSuchTuner"),
    (lambda d: d["trials"][1]["params"].update(x="not a number"), "x"),
])
def test_a_refused_import_leaves_nothing_in_the_store(tmp_path, path, damage, error):
    document = _document_with_numbers(tmp_path, {0: 1.0, 1: 2.0})
    data = json.loads(open(document).read())
    damage(data)
    broken = tmp_path / "broken.json"
    broken.write_text(json.dumps(data))
    with pytest.raises(at.errors.AutotuneError, match=error):
        at.Study.from_json(broken, storage=path, name="imported")
    with StudyStore(path) as store:
        assert [row.name for row in store.list_studies()] == []
    assert len(at.Study.from_json(document, storage=path, name="imported").trials) == 2


# --- 13. a read-only folder is named as such ---------------------------------------------------------
@pytest.fixture
def read_only_folder(tmp_path):
    """A folder on a read-only bind mount (root ignores chmod, not a read-only mount)."""
    source, mounted = tmp_path / "source", tmp_path / "read-only"
    source.mkdir()
    mounted.mkdir()
    StudyStore(source / "studies.db").close()
    if subprocess.run(["mount", "--bind", source, mounted], capture_output=True).returncode != 0:
        pytest.skip("a read-only bind mount needs root (CI runs as root)")
    try:
        subprocess.run(["mount", "-o", "remount,bind,ro", mounted], check=True, capture_output=True)
        yield mounted
    finally:
        subprocess.run(["umount", mounted], capture_output=True)


def test_a_store_in_a_read_only_folder_says_the_folder_is_read_only(read_only_folder):
    for name in ("studies.db", "new.db"):
        with pytest.raises(StoreError, match=r"the folder '.*read-only' is read-only"):
            StudyStore(read_only_folder / name)


# --- 14. one run at a time ------------------------------------------------------------------------------
def test_a_second_run_of_the_same_study_object_is_refused_and_the_first_goes_on():
    study = at.Study(SPACE, tuner="Random", seed=0, storage=None)
    first, began = run_in_thread(study, lambda p: time.sleep(0.3) or p["x"], max_trials=3, executor="inline")
    assert began.wait(10)
    with pytest.raises(ConfigurationError, match="is already running in this process"):
        study.run(lambda p: p["x"], max_trials=1, executor="inline")
    first.join(30)
    assert [t.state for t in study.trials] == [TrialState.SUCCEEDED] * 3


# --- 15. limits and a damaged row ---------------------------------------------------------------------
@pytest.mark.parametrize("limits", [dict(trial_timeout=0), dict(trial_timeout=math.nan),
                                    dict(max_duration=math.inf), dict(max_failures=-1)])
def test_zero_nan_and_infinite_limits_are_refused(limits):
    study = at.Study(SPACE, tuner="Random", seed=0, storage=None)
    with pytest.raises(ConfigurationError, match=f"{next(iter(limits))} must be"):
        study.run(lambda p: 1.0, max_trials=1, executor="inline", **limits)
    assert study.trials == []


def test_a_damaged_study_row_is_named_and_the_others_still_listed(path):
    for name in ("good", "damaged"):
        at.Study(SPACE, tuner="Random", seed=0, name=name, storage=path).run(
            lambda p: p["x"], max_trials=1, executor="inline")
    with sqlite3.connect(path) as connection:
        connection.execute("UPDATE studies SET config = '{not json' WHERE name = 'damaged'")
    with StudyStore(path) as store:
        rows = {row.name: row for row in store.list_studies()}
    assert rows["good"].problem is None and rows["good"].n_trials == 1
    assert rows["damaged"].problem.startswith("settings unreadable")
