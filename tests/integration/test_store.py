"""The SQLite store on real files: other processes see the writes, a killed writer loses nothing
committed, and broken files give clear errors."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import threading

import pytest

from autotune_nb.errors import StoreError
from autotune_nb.store import (
    LOST_REASON,
    SCHEMA_VERSION,
    StudyStore,
    default_store_path,
    open_store,
    shared_store,
)
from autotune_nb.testing.store_contract import (
    StoreContract,
    full_trial,
    make_config,
    running_trial,
    succeeded,
)
from autotune_nb.trial import TrialState

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


class TestSQLiteStore(StoreContract):
    pass


def python(code: str, *args: str, **popen: object) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": REPO}
    return subprocess.Popen([sys.executable, "-c", code, *args], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, **popen)


def output_of(code: str, *args: str) -> str:
    child = python(code, *args)
    out, err = child.communicate(timeout=60)
    assert child.returncode == 0, err
    return out


@pytest.fixture
def path(tmp_path) -> str:
    return os.fspath(tmp_path / "studies.db")


# --- on disk, for other processes ----------------------------------------------------------------
COUNT_UNTIL = """
import sys, time
from autotune_nb.store import StudyStore
store = StudyStore(sys.argv[1])
deadline = time.monotonic() + 10
while time.monotonic() < deadline:
    count = len(store.load_study("study")[1])
    if count >= int(sys.argv[2]):
        break
    time.sleep(0.05)
print(count)
"""


def test_another_process_reads_every_field(path):
    with StudyStore(path) as store:
        store.create_study(make_config())
        store.save_trial("study", full_trial(0))
        store.flush()
        code = ("import sys; from autotune_nb.store import StudyStore; "
                "print(repr(StudyStore(sys.argv[1]).load_study('study')))")
        shown = output_of(code, path).strip()
    assert shown == repr((make_config(), [full_trial(0)]))


def test_saves_reach_the_file_without_a_flush(path):
    store = StudyStore(path)
    store.create_study(make_config())
    for number in range(20):
        store.save_trial("study", succeeded(number, number / 20))
    assert output_of(COUNT_UNTIL, path, "20").strip() == "20"
    store.close()


def test_a_process_that_exits_without_closing_commits_its_queue(path):
    code = """
import sys
from autotune_nb.store import StudyStore
from autotune_nb.testing.store_contract import make_config, succeeded
store = StudyStore(sys.argv[1])
store.create_study(make_config())
for number in range(300):
    store.save_trial("study", succeeded(number, 0.5))
"""
    output_of(code, path)
    with StudyStore(path) as store:
        assert len(store.load_study("study")[1]) == 300


KILLED_WRITER = """
import sys, time
from autotune_nb.store import StudyStore
from autotune_nb.testing.store_contract import make_config, running_trial, succeeded
store = StudyStore(sys.argv[1])
store.create_study(make_config())
for number in range(5):
    store.save_trial("study", succeeded(number, number / 10))
store.save_trial("study", running_trial(5, slot=0).replace(intermediates=((1, 0.25),)))
store.save_trial("study", running_trial(6, slot=1))
store.flush()
print("ready", flush=True)
time.sleep(60)
"""


def test_a_killed_writer_loses_no_finished_trial_and_resume_marks_the_running_ones_lost(path):
    child = python(KILLED_WRITER, path)
    try:
        assert child.stdout.readline().strip() == "ready", child.stderr.read()
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.communicate(timeout=30)
    assert child.returncode == -signal.SIGKILL
    with StudyStore(path) as store:
        _, trials = store.load_study("study")
        assert trials[:5] == [succeeded(n, n / 10) for n in range(5)]
        assert [t.state for t in trials[5:]] == [TrialState.RUNNING, TrialState.RUNNING]
        assert store.acquire_lease("study", "resume") == 7  # what a resume does first
        _, trials = store.load_study("study")
    lost = trials[5:]
    assert [(t.state, t.reason) for t in lost] == [(TrialState.FAILED, LOST_REASON)] * 2
    assert lost[0].intermediates == ((1, 0.25),)


# --- the file ------------------------------------------------------------------------------------
def test_the_file_is_in_wal_mode(path):
    StudyStore(path).close()
    with sqlite3.connect(path) as connection:
        assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_a_file_that_is_not_a_database_is_named_in_the_error(path):
    with open(path, "wb") as f:
        f.write(b"these bytes are no SQLite database header" * 50)
    with pytest.raises(StoreError, match=r"studies\.db' is not an autotune_nb study store"):
        StudyStore(path)


def test_another_programs_database_is_refused_untouched(path):
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE invoices (id INTEGER)")
    with pytest.raises(StoreError, match="another program"):
        StudyStore(path)
    with sqlite3.connect(path) as connection:
        tables = [row[0] for row in connection.execute("SELECT name FROM sqlite_master")]
    assert tables == ["invoices"]


def test_a_store_from_a_newer_version_is_refused(path):
    StudyStore(path).close()
    with sqlite3.connect(path) as connection:
        connection.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    with pytest.raises(StoreError, match="newer autotune_nb.*upgrade"):
        StudyStore(path)


def test_a_missing_folder_is_a_store_error(tmp_path):
    with pytest.raises(StoreError, match="cannot open the study store"):
        StudyStore(tmp_path / "no" / "such" / "folder.db")


def test_the_default_file_is_in_the_working_folder_unless_the_environment_names_one(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("AUTOTUNE_NB_STORE", raising=False)
    assert default_store_path() == os.fspath(tmp_path / "autotune_nb.db")
    monkeypatch.setenv("AUTOTUNE_NB_STORE", os.fspath(tmp_path / "elsewhere.db"))
    StudyStore().close()
    assert os.path.exists(tmp_path / "elsewhere.db")
    assert not os.path.exists(tmp_path / "autotune_nb.db")


# --- threads -------------------------------------------------------------------------------------
def test_saves_from_several_threads_and_a_reading_thread_all_work(path):
    store = StudyStore(path)
    store.create_study(make_config())
    summaries: list = []

    def save(first: int) -> None:
        for number in range(first, first + 50):
            store.save_trial("study", running_trial(number))
            store.save_trial("study", succeeded(number, number / 200))

    def read() -> None:
        for _ in range(5):
            summaries.append(store.list_studies()[0].n_trials)

    threads = [threading.Thread(target=save, args=(first,)) for first in (0, 50, 100, 150)]
    threads.append(threading.Thread(target=read))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    _, trials = store.load_study("study")
    store.close()
    assert [t.number for t in trials] == list(range(200))
    assert all(t.state == TrialState.SUCCEEDED for t in trials)
    assert len(summaries) == 5 and summaries == sorted(summaries)


def test_a_failed_write_surfaces_at_the_next_flush_and_the_store_goes_on(path):
    store = StudyStore(path)
    store.create_study(make_config())
    store.save_trial("study", succeeded(0, 1.0).replace(value="not a number"))
    with pytest.raises(StoreError, match=r"could not save trial 0 of study"):
        store.flush()
    store.save_trial("study", succeeded(1, 1.0))
    store.flush()
    assert [t.number for t in store.load_study("study")[1]] == [1]
    store.close()


def test_open_store_gives_one_shared_store_per_file(path):
    assert open_store(None) is None
    first = open_store(path)
    assert open_store(path) is first is shared_store(path)
    assert open_store(first) is first
    with pytest.raises(StoreError, match="storage must be"):
        open_store(42)
    first.close()
    assert open_store(path) is not first
    open_store(path).close()
