"""SQLite persistence of studies: every trial state change lands on disk within milliseconds.

One file holds many named studies (default: ``autotune_nb.db`` in the working folder, or the path in
the ``AUTOTUNE_NB_STORE`` environment variable). The file is in WAL mode with ``synchronous=NORMAL``:
a committed write survives the process being killed, and readers (the dashboard, another process)
never block the writer.

The study loop must not wait on the disk, so a ``StudyStore`` owns one connection used by one writer
thread. ``save_trial`` only queues the trial (under a microsecond); the writer lets updates gather for
``GROUP_COMMIT_S``, keeps the last snapshot of each trial and commits them in one transaction. ``flush()`` waits until
everything queued is committed. Study-level operations (create, set_state, mark_lost, delete) run on
the same writer and wait for it, so their errors reach the caller. Reads open their own connection in
the calling thread, after a flush, so they see this store's own writes.

Example:
    >>> store = StudyStore("runs.db")
    >>> store.create_study(study.config)
    >>> store.save_trial(study.name, trial)        # queued, committed within milliseconds
    >>> config, trials = store.load_study(study.name)
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import dataclasses
import json
import os
import queue
import sqlite3
import threading
import time
import weakref
from typing import Any, Callable, Iterator, Sequence

from .config import StudyConfig
from .errors import StoreError, StudyBusyError
from .export import decode_json, encode_json
from .owner import ProcessOwner
from .trial import LOST_REASON, Trial, TrialState
from .vocabulary import STUDY_STATES, Direction, StudyState

DEFAULT_FILENAME = "autotune_nb.db"
ENV_VAR = "AUTOTUNE_NB_STORE"
#: 1: studies and trials; 2: a study's lease (owner, heartbeat). A version-1 file is upgraded in place.
SCHEMA_VERSION = 2
#: A running study's owner writes its heartbeat this often; a lease whose heartbeat is older than
#: LEASE_TIMEOUT_S is stale and may be taken over (on the owner's own host, a dead owner's at once).
HEARTBEAT_S = 2.0
LEASE_TIMEOUT_S = 30.0
BUSY_TIMEOUT_MS = 10_000
#: How long the writer lets trial updates gather before committing them together: a commit costs
#: ~60 µs of the writer's time, a row ~15 µs; waiting 5 ms halves the writer's cost at 1,000 updates/s.
GROUP_COMMIT_S = 0.005

_SCHEMA = """
CREATE TABLE studies (
    name TEXT PRIMARY KEY,
    config TEXT NOT NULL,
    state TEXT NOT NULL,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL,
    owner TEXT,
    heartbeat REAL
);
CREATE TABLE trials (
    study TEXT NOT NULL,
    number INTEGER NOT NULL,
    params TEXT NOT NULL,
    state TEXT NOT NULL,
    value REAL,
    metrics TEXT NOT NULL,
    intermediates TEXT NOT NULL,
    started_at REAL,
    finished_at REAL,
    slot INTEGER,
    gpu TEXT,
    error TEXT,
    reason TEXT,
    PRIMARY KEY (study, number)
) WITHOUT ROWID
"""

_TRIAL_COLUMNS = ("study", "number", "params", "state", "value", "metrics", "intermediates", "started_at",
                  "finished_at", "slot", "gpu", "error", "reason")
_UPSERT_TRIAL = (
    f"INSERT INTO trials ({', '.join(_TRIAL_COLUMNS)}) VALUES ({', '.join('?' * len(_TRIAL_COLUMNS))}) "
    "ON CONFLICT (study, number) DO UPDATE SET "
    + ", ".join(f"{column} = excluded.{column}" for column in _TRIAL_COLUMNS[2:])
)
_SELECT_TRIALS = f"SELECT {', '.join(_TRIAL_COLUMNS[1:])} FROM trials WHERE study = ? ORDER BY number"


@dataclasses.dataclass(frozen=True)
class StudySummary:
    """One line of ``list_studies``. ``best_value`` is over SUCCEEDED trials, in the study's direction."""

    name: str
    state: str
    tuner: str
    direction: str
    n_trials: int
    best_value: float | None
    updated_at: float
    #: Why this study cannot be loaded (its stored settings are damaged), or None.
    problem: str | None = None


def _may_be_alive(lease: _Lease, heartbeat: float | None) -> bool:
    """Whether the run holding ``lease`` may still be running: its process lives (on this host, where
    that can be seen) and has renewed its heartbeat within LEASE_TIMEOUT_S."""
    fresh = heartbeat is not None and time.time() - heartbeat < LEASE_TIMEOUT_S
    return fresh and lease.owner.is_alive() is not False


def default_store_path() -> str:
    """``$AUTOTUNE_NB_STORE`` if set, else ``autotune_nb.db`` in the current working folder."""
    return os.environ.get(ENV_VAR) or os.path.join(os.getcwd(), DEFAULT_FILENAME)


# --- rows ----------------------------------------------------------------------------------------
def _trial_row(study: str, trial: Trial) -> tuple:
    return (
        study, trial.number, encode_json(trial.params), trial.state.value,
        None if trial.value is None else float(trial.value), encode_json(trial.metrics),
        encode_json(trial.intermediates), trial.started_at, trial.finished_at, trial.slot, trial.gpu,
        trial.error, trial.reason,
    )


def _trial_from_row(row: Sequence) -> Trial:
    number, params, state, value, metrics, intermediates, started, finished, slot, gpu, error, reason = row
    return Trial(
        number=number, params=decode_json(params), state=TrialState(state), value=value,
        metrics=decode_json(metrics), intermediates=tuple((step, v) for step, v in decode_json(intermediates)),
        started_at=started, finished_at=finished, slot=slot, gpu=gpu, error=error, reason=reason,
    )


def _config_to_text(config: StudyConfig) -> str:
    return encode_json(dataclasses.asdict(config))


def _config_from_text(name: str, text: str, path: str) -> StudyConfig:
    fields = decode_json(text)
    try:
        return StudyConfig(**fields)
    except TypeError as exc:
        raise StoreError(f"{path}: the settings of study {name!r} do not fit this autotune_nb ({exc}); "
                         "the file was probably written by another version") from None


# --- connections ---------------------------------------------------------------------------------
def _connect(path: str, *, check_same_thread: bool = True) -> sqlite3.Connection:
    """A connection in autocommit mode (transactions are explicit), WAL, waiting on a busy writer."""
    try:
        connection = sqlite3.connect(path, isolation_level=None, check_same_thread=check_same_thread,
                                     timeout=BUSY_TIMEOUT_MS / 1000)
    except sqlite3.Error as exc:
        raise _open_error(path, exc) from None
    try:
        connection.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        connection.execute("PRAGMA synchronous = NORMAL")
        version = connection.execute("PRAGMA user_version").fetchone()[0]
    except sqlite3.DatabaseError as exc:
        connection.close()
        if _read_only(path):
            raise _open_error(path, exc) from None
        raise StoreError(f"{path!r} is not an autotune_nb study store ({exc}); move it away or pass "
                         f"another path (argument or {ENV_VAR})") from None
    if version > SCHEMA_VERSION:
        connection.close()
        raise StoreError(f"{path!r} holds store schema {version}, written by a newer autotune_nb (this one "
                         f"knows up to {SCHEMA_VERSION}); upgrade autotune_nb")
    return connection


def _read_only(path: str) -> bool:
    folder = os.path.dirname(path) or "."
    return os.path.isdir(folder) and not os.access(folder, os.W_OK) or (
        os.path.exists(path) and not os.access(path, os.W_OK))


def _open_error(path: str, exc: Exception) -> StoreError:
    """Why the store cannot be opened, in the user's terms rather than SQLite's."""
    folder = os.path.dirname(path) or "."
    fix = f"pass a path in a writable folder (argument or {ENV_VAR})"
    if not os.path.isdir(folder):
        return StoreError(f"cannot open the study store {path!r}: the folder {folder!r} does not exist; "
                          f"create it or {fix}")
    if not os.access(folder, os.W_OK):
        return StoreError(f"cannot use the study store {path!r}: the folder {folder!r} is read-only, and "
                          f"SQLite writes the store and its -wal and -shm files there; {fix}")
    if os.path.exists(path) and not os.access(path, os.W_OK):
        return StoreError(f"cannot use the study store {path!r}: the file is read-only; make it writable or {fix}")
    return StoreError(f"cannot open the study store {path!r}: {exc}; check the folder exists and is "
                      f"writable, or set {ENV_VAR} to another path")


def _create_schema(connection: sqlite3.Connection, path: str) -> None:
    """Make the tables on first use, upgrade an older schema; refuse an SQLite file of another program."""
    try:
        connection.execute("PRAGMA journal_mode = WAL")
        connection.execute("BEGIN IMMEDIATE")
        version = connection.execute("PRAGMA user_version").fetchone()[0]
        if version == 0 and connection.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]:
            connection.execute("ROLLBACK")
            connection.close()
            raise StoreError(f"{path!r} is an SQLite database of another program, not an autotune_nb study "
                             f"store; pass another path (argument or {ENV_VAR})")
        if version == 0:
            for statement in _SCHEMA.split(";"):
                connection.execute(statement)
        elif version == 1:
            connection.execute("ALTER TABLE studies ADD COLUMN owner TEXT")
            connection.execute("ALTER TABLE studies ADD COLUMN heartbeat REAL")
        connection.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        connection.execute("COMMIT")
    except sqlite3.DatabaseError as exc:
        connection.close()
        if _read_only(path):
            raise _open_error(path, exc) from None
        raise StoreError(f"cannot set up the study store {path!r}: {exc}") from None


# --- leases --------------------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class _Lease:
    """Who runs a study now: one run (``run``, a fresh id per ``Study.run``) of one process."""

    owner: ProcessOwner
    run: str

    def to_text(self) -> str:
        return json.dumps({**self.owner.to_dict(), "run": self.run})

    @classmethod
    def from_text(cls, text: str | None) -> "_Lease | None":
        try:
            data = json.loads(text) if text else None
        except ValueError:
            return None
        owner = ProcessOwner.from_dict(data)
        return cls(owner, str(data["run"])) if owner is not None and "run" in data else None


# --- the writer ----------------------------------------------------------------------------------
_STOP = object()


class _Barrier:
    """Queued by ``flush``: set once everything queued before it is committed."""

    def __init__(self) -> None:
        self.done = threading.Event()


@dataclasses.dataclass
class _Call:
    """A study-level operation run on the writer's connection; its result goes to ``future``."""

    action: Callable[[sqlite3.Connection], Any]
    future: concurrent.futures.Future = dataclasses.field(default_factory=concurrent.futures.Future)


class _Writer:
    """The one thread that writes. Holds no reference to its StudyStore, so an unused store can be
    collected (its finalizer stops the writer).

    A trial snapshot that cannot be committed (the disk is full, the file is locked too long) is kept
    in ``unsaved`` and tried again with every later commit, flush and heartbeat, so it reaches the disk
    as soon as the disk takes it; ``problems`` holds what no retry can mend (a record that cannot be
    written, a study another run took over). A flush raises both.
    While this process holds a study's lease (``leases``: study name -> run id) the writer renews its
    heartbeat every HEARTBEAT_S, whatever the study loop is doing.
    """

    def __init__(self, connection: sqlite3.Connection, path: str):
        self.connection = connection
        self.path = path
        self.queue: queue.SimpleQueue = queue.SimpleQueue()
        self.unsaved: dict[tuple[str, int], Trial] = {}
        self.problems: list[str] = []  # losses no retry mends, told once
        self.write_error: str | None = None  # why the unsaved snapshots are unsaved
        self.lock = threading.Lock()  # guards unsaved and problems, read by take_problems' caller
        self.leases: dict[str, str] = {}
        self._next_heartbeat = 0.0
        self.thread = threading.Thread(target=self._run, name=f"autotune-store-writer({path})", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while True:
            try:
                batch = [self.queue.get(timeout=HEARTBEAT_S if self.leases else None)]
            except queue.Empty:
                batch = []
            if batch and isinstance(batch[0], tuple):
                time.sleep(GROUP_COMMIT_S)  # let the updates that follow join this transaction
            while True:
                try:
                    batch.append(self.queue.get_nowait())
                except queue.Empty:
                    break
            if self._write(batch):
                return
            self._beat()

    def _write(self, batch: list) -> bool:
        """Apply ``batch`` in order; consecutive trial saves are coalesced. True once told to stop."""
        saves: dict[tuple[str, int], Trial] = {}
        for item in batch:
            if isinstance(item, tuple):
                saves[(item[0], item[1].number)] = item[1]
                continue
            self._commit_saves(saves)
            saves = {}
            if item is _STOP:
                return True
            if isinstance(item, _Barrier):
                item.done.set()
            else:
                self._run_call(item)
        self._commit_saves(saves)
        return False

    def _commit_saves(self, saves: dict[tuple[str, int], Trial]) -> None:
        """Commit ``saves`` with every snapshot still unsaved (a newer snapshot of a trial wins)."""
        with self.lock:
            pending = {**self.unsaved, **saves}
        if not pending:
            return
        rows, problems = [], []
        for (study, _), trial in pending.items():
            try:
                rows.append(_trial_row(study, trial))
            except Exception as exc:  # a record no retry can save: say so, drop it
                problems.append(f"could not save trial {trial.number} of study {study!r} to {self.path!r}: {exc}")
        try:
            with _transaction(self.connection):
                refused = self._studies_leased_elsewhere({row[0] for row in rows})
                kept = [row for row in rows if row[0] not in refused]
                self.connection.executemany(_UPSERT_TRIAL, kept)
                self.connection.executemany("UPDATE studies SET updated_at = ? WHERE name = ?",
                                            [(time.time(), name) for name in {row[0] for row in kept}])
        except sqlite3.Error as exc:  # the writer must live on; the snapshots wait for the next commit
            with self.lock:
                self.unsaved.update((key, pending[key]) for key in ((row[0], row[1]) for row in rows))
                self.write_error = f"{type(exc).__name__}: {exc}"
                self._add_problems(problems)
            return
        for study, owner in refused.items():
            numbers = sorted(row[1] for row in rows if row[0] == study)
            problems.append(f"trial(s) {_numbers(numbers)} of study {study!r} were not saved: the study is "
                            f"now run by {owner} (this process's lease on it had expired)")
        with self.lock:
            for key, trial in pending.items():  # a snapshot queued meanwhile stays unsaved
                if self.unsaved.get(key) is trial:
                    del self.unsaved[key]
            self.write_error = None
            self._add_problems(problems)

    def _add_problems(self, problems: list[str]) -> None:
        self.problems += [problem for problem in problems if problem not in self.problems]

    def _studies_leased_elsewhere(self, studies: set[str]) -> dict[str, str]:
        """Of ``studies``, those whose lease another run holds, with that owner in words."""
        refused = {}
        for study in studies:
            row = self.connection.execute("SELECT owner FROM studies WHERE name = ?", (study,)).fetchone()
            lease = _Lease.from_text(row[0] if row else None)
            if lease is not None and lease.run != self.leases.get(study):
                refused[study] = lease.owner.describe()
        return refused

    def _beat(self) -> None:
        """Renew the heartbeat of every lease this process holds, at most every HEARTBEAT_S."""
        now = time.time()
        if not self.leases or now < self._next_heartbeat:
            return
        self._next_heartbeat = now + HEARTBEAT_S
        try:
            with _transaction(self.connection):
                self.connection.executemany(
                    "UPDATE studies SET heartbeat = ? WHERE name = ? AND json_extract(owner, '$.run') = ?",
                    [(now, name, run) for name, run in list(self.leases.items())])
        except sqlite3.Error:
            pass  # a busy or full file: the next beat tries again, well within LEASE_TIMEOUT_S

    def _run_call(self, call: _Call) -> None:
        try:
            with _transaction(self.connection):
                result = call.action(self.connection)
        except BaseException as exc:  # handed to the waiting caller, raised there
            call.future.set_exception(exc)
        else:
            call.future.set_result(result)

    def take_problems(self) -> StoreError | None:
        """What went wrong since the last call, and which trials are still not on disk; then forget it."""
        with self.lock:
            problems, self.problems = self.problems, []
            by_study: dict[str, list[int]] = {}
            for study, number in self.unsaved:
                by_study.setdefault(study, []).append(number)
        problems += [f"trial(s) {_numbers(sorted(numbers))} of study {study!r} are not on disk ({self.write_error}): "
                     "they are kept in memory and saved at the store's next write that succeeds (a flush, "
                     "a trial, the next run)" for study, numbers in by_study.items()]
        return StoreError("; ".join(problems)) if problems else None

    def stop(self) -> None:
        if self.thread.is_alive():
            self.queue.put(_STOP)
            self.thread.join()
        self.connection.close()


def _numbers(numbers: Sequence[int]) -> str:
    shown = ", ".join(map(str, numbers[:20]))
    return shown + (f" and {len(numbers) - 20} more" if len(numbers) > 20 else "")


@contextlib.contextmanager
def _transaction(connection: sqlite3.Connection) -> Iterator[None]:
    connection.execute("BEGIN IMMEDIATE")
    try:
        yield
        connection.execute("COMMIT")
    except BaseException:
        if connection.in_transaction:  # a failed COMMIT may have rolled back already
            connection.execute("ROLLBACK")
        raise


# --- the store -----------------------------------------------------------------------------------
class StudyStore:
    """Named studies and their trials in one SQLite file, written by this process's writer thread.

    Args:
        path: the SQLite file; default ``default_store_path()``. Created if missing.

    Raises StoreError when the file cannot be opened, is not an SQLite database, or was written by a
    newer schema.
    """

    def __init__(self, path: str | os.PathLike | None = None):
        self.path = os.path.abspath(os.fspath(path) if path is not None else default_store_path())
        connection = _connect(self.path, check_same_thread=False)
        _create_schema(connection, self.path)
        self._writer = _Writer(connection, self.path)
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
                (config.name, _config_to_text(config), StudyState.RUNNING.value, now, now)).rowcount
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

    def mark_lost(self, name: str) -> int:
        """Turn the study's WAITING and RUNNING trials FAILED (their process is gone); returns how many."""

        def mark(connection: sqlite3.Connection) -> int:
            self._require(name, connection)
            return connection.execute(
                "UPDATE trials SET state = ?, reason = ? WHERE study = ? AND state IN (?, ?)",
                (TrialState.FAILED.value, LOST_REASON, name, TrialState.WAITING.value, TrialState.RUNNING.value),
            ).rowcount

        return self._call(mark)

    def import_study(self, config: StudyConfig, trials: Sequence[Trial], state: str) -> None:
        """Add a whole study (settings, trials, state) in one transaction: all of it or, when anything
        is refused (a taken name, a record that cannot be written), nothing."""
        if state not in STUDY_STATES:
            raise StoreError(f"study state must be one of {', '.join(STUDY_STATES)}, got {state!r}")
        rows = [_trial_row(config.name, trial) for trial in trials]

        def add(connection: sqlite3.Connection) -> None:
            now = time.time()
            inserted = connection.execute(
                "INSERT INTO studies (name, config, state, created_at, updated_at) VALUES (?, ?, ?, ?, ?) "
                "ON CONFLICT (name) DO NOTHING", (config.name, _config_to_text(config), state, now, now)).rowcount
            if not inserted:
                raise StoreError(f"a study named {config.name!r} is already in {self.path!r}: import it under "
                                 "another name, or delete the stored one first")
            connection.executemany(_UPSERT_TRIAL, rows)

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
            held, heartbeat = _Lease.from_text(row[0]), row[1]
            if held is not None and held.run != run and _may_be_alive(held, heartbeat):
                beat = "" if heartbeat is None else f", last heartbeat {time.time() - heartbeat:.1f}s ago"
                raise StudyBusyError(
                    f"study {name!r} in {self.path!r} is running in {held.owner.describe()}{beat}: two runs "
                    "would share its trial numbers. Wait for that run to end or stop it there; a lease left "
                    f"by a dead process is taken over at once on its host, elsewhere after {LEASE_TIMEOUT_S:g}s "
                    "without a heartbeat")
            lease = _Lease(ProcessOwner.current(), run)
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
        barrier = _Barrier()
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
            trials = [_trial_from_row(r) for r in connection.execute(_SELECT_TRIALS, (name,))]
        self._studies.add(name)
        return _config_from_text(name, row[0], self.path), trials

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
            config = _config_from_text(name, config_text, self.path)
        except (StoreError, ValueError, TypeError) as exc:
            return StudySummary(name=name, state=state, tuner="?", direction="?", n_trials=count,
                                best_value=None, updated_at=updated_at, problem=f"settings unreadable: {exc}")
        return StudySummary(name=name, state=state, tuner=config.tuner, direction=config.direction,
                            n_trials=count, best_value=Direction(config.direction).best_value((high, low)),
                            updated_at=updated_at)

    # --- plumbing --------------------------------------------------------------------------------
    def _call(self, action: Callable[[sqlite3.Connection], Any]) -> Any:
        self._check_writable()
        call = _Call(action)
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
        self.connection = _connect(self.path)
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


def open_store(storage: "StudyStore | str | os.PathLike | bool | None") -> StudyStore | None:
    """What ``Study(storage=...)`` means: None/False no store, True the default file, a path that
    file, a StudyStore itself."""
    if storage is None or storage is False:
        return None
    if storage is True:
        return shared_store()
    if isinstance(storage, StudyStore):
        return storage
    if isinstance(storage, (str, os.PathLike)):
        return shared_store(storage)
    raise StoreError(f"storage must be a path, a StudyStore, True (the default file) or None, got {storage!r}")

