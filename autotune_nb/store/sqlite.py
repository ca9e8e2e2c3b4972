"""SQLite persistence of studies: every trial state change lands on disk within milliseconds.

One file holds many named studies (default: ``autotune_nb.db`` in the working folder, or the path in
the ``AUTOTUNE_NB_STORE`` environment variable). The file is in WAL mode with ``synchronous=NORMAL``:
a committed write survives the process being killed, and readers (the dashboard, another process)
never block the writer.

The study loop must not wait on the disk, so a ``StudyStore`` owns one connection used by one writer
thread. ``save_trial`` only queues the trial (under a microsecond); the writer lets updates gather for
``GROUP_COMMIT_S``, keeps the last snapshot of each trial and commits them in one transaction. ``flush()`` waits until
everything queued is committed. Study-level operations (create, import, set_state, leases, delete) run on
the same writer and wait for it, so their errors reach the caller. Reads open their own connection in
the calling thread, after a flush, so they see this store's own writes.

Example:
    >>> store = StudyStore("runs.db")
    >>> store.create_study(study.config)
    >>> store.save_trial(study.name, trial)        # queued, committed within milliseconds
    >>> config, trials = store.load_study(study.name)
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
import weakref
from typing import Any, Callable, Sequence

from ..config import StudyConfig
from ..errors import StoreError, StudyBusyError
from ..owner import ProcessOwner
from ..trial import LOST_REASON, Trial, TrialState
from ..vocabulary import STUDY_STATES, Direction, StudyState
from .lease import LEASE_TIMEOUT_S, Lease, may_be_alive
from .protocol import StudySummary
from .schema import (
    SELECT_TRIALS,
    UPSERT_TRIAL,
    config_from_text,
    config_to_text,
    connect,
    create_schema,
    default_store_path,
    trial_from_row,
    trial_row,
)
from .writer import Barrier, Call, Writer

class StudyStore:
    """Named studies and their trials in one SQLite file, written by this process's writer thread.

    Args:
        path: the SQLite file; default ``default_store_path()``. Created if missing.

    Raises StoreError when the file cannot be opened, is not an SQLite database, or was written by a
    newer schema.
    """

    def __init__(self, path: str | os.PathLike | None = None):
        self.path = os.path.abspath(os.fspath(path) if path is not None else default_store_path())
        connection = connect(self.path, check_same_thread=False)
        create_schema(connection, self.path)
        self._writer = Writer(connection, self.path)
        self._studies: set[str] = set()  # the studies this store may save trials to
        self._closed = False
        self._finalizer = weakref.finalize(self, self._writer.stop)

    def __repr__(self) -> str:
        return f"StudyStore({self.path!r})"

    def __enter__(self) -> "StudyStore":
        return self

    def __exit__(self, *_: Any) -> None:
        self.close()

    # --- writes ----------------------------------------------------------------------------------
    def create_study(self, config: StudyConfig, *, exist_ok: bool = False) -> None:
        """Add a study (state "running"). A name already in the store is refused unless ``exist_ok``,
        in which case the stored study is left as it is."""

        def create(connection: sqlite3.Connection) -> None:
            now = time.time()
            inserted = connection.execute(
                "INSERT INTO studies (name, config, state, created_at, updated_at) VALUES (?, ?, ?, ?, ?) "
                "ON CONFLICT (name) DO NOTHING",
                (config.name, config_to_text(config), StudyState.RUNNING.value, now, now)).rowcount
            if not inserted and not exist_ok:
                raise StoreError(
                    f"a study named {config.name!r} is already in {self.path!r}: continue it with "
                    f"Study.load({config.name!r}).resume(...), or choose another name"
                )

        self._call(create)
        self._studies.add(config.name)

    def save_trial(self, name: str, trial: Trial) -> None:
        """Queue the whole trial record (an upsert by number); committed within milliseconds.

        Snapshots of one trial must be saved in the order they were made (the last one wins).
        """
        self._check_writable()
        if name not in self._studies:
            raise StoreError(f"study {name!r} was not created or loaded through this store ({self.path!r}): "
                             "call create_study(config) or load_study(name) first")
        self._writer.queue.put((name, trial))

    def set_state(self, name: str, state: str) -> None:
        """Set the study's state: running, finished, stopped or failed."""
        if state not in STUDY_STATES:
            raise StoreError(f"study state must be one of {', '.join(STUDY_STATES)}, got {state!r}")

        def update(connection: sqlite3.Connection) -> None:
            changed = connection.execute("UPDATE studies SET state = ?, updated_at = ? WHERE name = ?",
                                         (state, time.time(), name)).rowcount
            if not changed:
                raise self._unknown(name, connection)

        self._call(update)

    def import_study(self, config: StudyConfig, trials: Sequence[Trial], state: str) -> None:
        """Add a whole study (settings, trials, state) in one transaction: all of it or, when anything
        is refused (a taken name, a record that cannot be written), nothing."""
        if state not in STUDY_STATES:
            raise StoreError(f"study state must be one of {', '.join(STUDY_STATES)}, got {state!r}")
        rows = [trial_row(config.name, trial) for trial in trials]

        def add(connection: sqlite3.Connection) -> None:
            now = time.time()
            inserted = connection.execute(
                "INSERT INTO studies (name, config, state, created_at, updated_at) VALUES (?, ?, ?, ?, ?) "
                "ON CONFLICT (name) DO NOTHING", (config.name, config_to_text(config), state, now, now)).rowcount
            if not inserted:
                raise StoreError(f"a study named {config.name!r} is already in {self.path!r}: import it under "
                                 "another name, or delete the stored one first")
            connection.executemany(UPSERT_TRIAL, rows)

        self._call(add)
        self._studies.add(config.name)

    def acquire_lease(self, name: str, run: str) -> int:
        """Make ``run`` (an id fresh for each ``Study.run``) the one run of study ``name``; returns the
        next trial number that was never used.

        Refused with StudyBusyError while another run holds the lease and may still be alive: a
        process on this host that exists with the same start time, or one on another host whose
        heartbeat is younger than LEASE_TIMEOUT_S. A dead or stale owner's lease is taken over, and
        the trials it left RUNNING or WAITING are marked lost in the same transaction. While held, the
        writer renews the heartbeat and refuses to commit trials of a study another run has taken.
        """

        def acquire(connection: sqlite3.Connection) -> int:
            row = connection.execute("SELECT owner, heartbeat FROM studies WHERE name = ?", (name,)).fetchone()
            if row is None:
                raise self._unknown(name, connection)
            held, heartbeat = Lease.from_text(row[0]), row[1]
            if held is not None and held.run != run and may_be_alive(held, heartbeat):
                beat = "" if heartbeat is None else f", last heartbeat {time.time() - heartbeat:.1f}s ago"
                raise StudyBusyError(
                    f"study {name!r} in {self.path!r} is running in {held.owner.describe()}{beat}: two runs "
                    "would share its trial numbers. Wait for that run to end or stop it there; a lease left "
                    f"by a dead process is taken over at once on its host, elsewhere after {LEASE_TIMEOUT_S:g}s "
                    "without a heartbeat")
            lease = Lease(ProcessOwner.current(), run)
            connection.execute("UPDATE studies SET owner = ?, heartbeat = ?, state = ?, updated_at = ? WHERE name = ?",
                               (lease.to_text(), time.time(), StudyState.RUNNING.value, time.time(), name))
            connection.execute("UPDATE trials SET state = ?, reason = ? WHERE study = ? AND state IN (?, ?)",
                               (TrialState.FAILED.value, LOST_REASON, name, TrialState.WAITING.value,
                                TrialState.RUNNING.value))
            self._writer.leases[name] = run
            return connection.execute("SELECT coalesce(max(number) + 1, 0) FROM trials WHERE study = ?",
                                      (name,)).fetchone()[0]

        try:
            number = self._call(acquire)
        except BaseException:
            if self._writer.leases.get(name) == run:
                del self._writer.leases[name]
            raise
        self._studies.add(name)
        return number

    def release_lease(self, name: str, run: str) -> None:
        """End ``run``'s lease on the study (after its last trial was queued); a no-op if not held."""

        def release(connection: sqlite3.Connection) -> None:
            connection.execute("UPDATE studies SET owner = NULL, heartbeat = NULL WHERE name = ? "
                               "AND json_extract(owner, '$.run') = ?", (name, run))
            if self._writer.leases.get(name) == run:
                del self._writer.leases[name]

        self._call(release)

    def delete_study(self, name: str) -> None:
        """Remove the study and all its trials."""

        def delete(connection: sqlite3.Connection) -> None:
            self._require(name, connection)
            connection.execute("DELETE FROM trials WHERE study = ?", (name,))
            connection.execute("DELETE FROM studies WHERE name = ?", (name,))

        self._call(delete)
        self._studies.discard(name)

    def flush(self, timeout: float | None = None) -> None:
        """Wait until everything queued so far is committed (trials a failed write left unsaved are
        tried again); raise StoreError naming what failed since the last flush and which trials are
        still not on disk."""
        self._check_writable()
        barrier = Barrier()
        self._writer.queue.put(barrier)
        if not barrier.done.wait(timeout):
            raise StoreError(f"the store writer of {self.path!r} did not finish within {timeout}s")
        self._raise_writer_problems()

    def close(self) -> None:
        """Commit what is queued and release the file. Idempotent."""
        if self._closed:
            return
        self._closed = True
        self._finalizer()
        self._raise_writer_problems()

    # --- reads -----------------------------------------------------------------------------------
    def load_study(self, name: str) -> tuple[StudyConfig, list[Trial]]:
        """The study's settings and its trials, by number. This store may then save trials to it."""
        self._flush_if_open()
        with self._reader() as connection:
            row = connection.execute("SELECT config FROM studies WHERE name = ?", (name,)).fetchone()
            if row is None:
                raise self._unknown(name, connection)
            trials = [trial_from_row(r) for r in connection.execute(SELECT_TRIALS, (name,))]
        self._studies.add(name)
        return config_from_text(name, row[0], self.path), trials

    def state_of(self, name: str) -> StudyState:
        """The study's state as stored."""
        self._flush_if_open()
        with self._reader() as connection:
            row = connection.execute("SELECT state FROM studies WHERE name = ?", (name,)).fetchone()
            if row is None:
                raise self._unknown(name, connection)
        return StudyState(row[0])

    def list_studies(self) -> list[StudySummary]:
        """Every study in the file, most recently updated first."""
        self._flush_if_open()
        with self._reader() as connection:
            studies = connection.execute(
                "SELECT name, config, state, updated_at FROM studies ORDER BY updated_at DESC, name").fetchall()
            stats = {
                name: (count, high, low) for name, count, high, low in connection.execute(
                    "SELECT study, count(*), max(CASE WHEN state = 'SUCCEEDED' THEN value END), "
                    "min(CASE WHEN state = 'SUCCEEDED' THEN value END) FROM trials GROUP BY study")
            }
        return [self._summary(name, config, state, updated, stats.get(name))
                for name, config, state, updated in studies]

    def _summary(self, name: str, config_text: str, state: str, updated_at: float,
                 stats: tuple | None) -> StudySummary:
        """One study's line; a study whose stored settings cannot be read gets a line that says so,
        so that one damaged row does not hide the others."""
        count, high, low = stats or (0, None, None)
        try:
            config = config_from_text(name, config_text, self.path)
        except (StoreError, ValueError, TypeError) as exc:
            return StudySummary(name=name, state=state, tuner="?", direction="?", n_trials=count,
                                best_value=None, updated_at=updated_at, problem=f"settings unreadable: {exc}")
        return StudySummary(name=name, state=state, tuner=config.tuner, direction=config.direction,
                            n_trials=count, best_value=Direction(config.direction).best_value((high, low)),
                            updated_at=updated_at)

    # --- plumbing --------------------------------------------------------------------------------
    def _call(self, action: Callable[[sqlite3.Connection], Any]) -> Any:
        self._check_writable()
        call = Call(action)
        self._writer.queue.put(call)
        try:
            return call.future.result()
        except sqlite3.Error as exc:
            raise StoreError(f"the study store {self.path!r} refused a write: {exc}") from None

    def _check_writable(self) -> None:
        if self._closed:
            raise StoreError(f"the study store {self.path!r} is closed; open a new StudyStore")

    def _raise_writer_problems(self) -> None:
        error = self._writer.take_problems()
        if error is not None:
            raise error

    def _flush_if_open(self) -> None:
        if not self._closed:
            self.flush()

    def _reader(self) -> "_ReadConnection":
        return _ReadConnection(self.path)

    def _require(self, name: str, connection: sqlite3.Connection) -> None:
        if connection.execute("SELECT 1 FROM studies WHERE name = ?", (name,)).fetchone() is None:
            raise self._unknown(name, connection)

    def _unknown(self, name: str, connection: sqlite3.Connection) -> StoreError:
        known = [row[0] for row in connection.execute("SELECT name FROM studies ORDER BY name")]
        listed = ", ".join(repr(n) for n in known) if known else "none yet"
        return StoreError(f"no study named {name!r} in {self.path!r}; the studies there: {listed}")


class _ReadConnection:
    """A short-lived connection of the calling thread (readers never share the writer's)."""

    def __init__(self, path: str):
        self.path = path

    def __enter__(self) -> sqlite3.Connection:
        self.connection = connect(self.path)
        return self.connection

    def __exit__(self, kind, exc, _tb: Any) -> None:
        self.connection.close()
        if isinstance(exc, sqlite3.DatabaseError):
            raise StoreError(f"cannot read the study store {self.path!r}: {exc}") from None


_shared: dict[str, StudyStore] = {}
_shared_lock = threading.Lock()


def shared_store(path: str | os.PathLike | None = None) -> StudyStore:
    """The process's one StudyStore for ``path`` (default ``default_store_path()``): studies of one
    kernel that use the same file share its writer, so the file has one writer per process."""
    resolved = os.path.abspath(os.fspath(path) if path is not None else default_store_path())
    with _shared_lock:
        store = _shared.get(resolved)
        if store is None or store._closed:
            store = _shared[resolved] = StudyStore(resolved)
        return store
