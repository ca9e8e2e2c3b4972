"""The SQLite file of a study store: its schema and upgrades, connections, and rows.

Schema versions: 1 held studies and trials; 2 added each study's lease (``owner``, ``heartbeat``);
3 added each trial's ``directives`` (budget, bracket/rung, parent: ``directives.py``). An older file
is upgraded in place when opened; a newer one is refused.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import sqlite3
from typing import Iterator, Sequence

from ..codec import decode_json, encode_json
from ..config import StudyConfig
from ..directives import directives_from_json
from ..errors import StoreError
from ..trial import Trial, TrialState

DEFAULT_FILENAME = "autotune_nb.db"
ENV_VAR = "AUTOTUNE_NB_STORE"
#: 1: studies and trials; 2: a study's lease (owner, heartbeat); 3: trial directives. Older files are upgraded in place.
SCHEMA_VERSION = 3
BUSY_TIMEOUT_MS = 10_000
SCHEMA = """
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
    directives TEXT,
    PRIMARY KEY (study, number)
) WITHOUT ROWID
"""

TRIAL_COLUMNS = ("study", "number", "params", "state", "value", "metrics", "intermediates", "started_at",
                  "finished_at", "slot", "gpu", "error", "reason", "directives")
UPSERT_TRIAL = (
    f"INSERT INTO trials ({', '.join(TRIAL_COLUMNS)}) VALUES ({', '.join('?' * len(TRIAL_COLUMNS))}) "
    "ON CONFLICT (study, number) DO UPDATE SET "
    + ", ".join(f"{column} = excluded.{column}" for column in TRIAL_COLUMNS[2:])
)
SELECT_TRIALS = f"SELECT {', '.join(TRIAL_COLUMNS[1:])} FROM trials WHERE study = ? ORDER BY number"


def default_store_path() -> str:
    """``$AUTOTUNE_NB_STORE`` if set, else ``autotune_nb.db`` in the current working folder."""
    return os.environ.get(ENV_VAR) or os.path.join(os.getcwd(), DEFAULT_FILENAME)


# --- rows ----------------------------------------------------------------------------------------
def trial_row(study: str, trial: Trial) -> tuple:
    return (
        study, trial.number, encode_json(trial.params), trial.state.value,
        None if trial.value is None else float(trial.value), encode_json(trial.metrics),
        encode_json(trial.intermediates), trial.started_at, trial.finished_at, trial.slot, trial.gpu,
        trial.error, trial.reason,
        None if trial.directives is None else encode_json(trial.directives.to_json()),
    )


def trial_from_row(row: Sequence) -> Trial:
    number, params, state, value, metrics, intermediates, started, finished, slot, gpu, error, reason, directives = row
    return Trial(
        number=number, params=decode_json(params), state=TrialState(state), value=value,
        metrics=decode_json(metrics), intermediates=tuple((step, v) for step, v in decode_json(intermediates)),
        started_at=started, finished_at=finished, slot=slot, gpu=gpu, error=error, reason=reason,
        directives=None if directives is None else directives_from_json(decode_json(directives)),
    )


def config_to_text(config: StudyConfig) -> str:
    return encode_json(dataclasses.asdict(config))


def config_from_text(name: str, text: str, path: str) -> StudyConfig:
    fields = decode_json(text)
    try:
        return StudyConfig(**fields)
    except TypeError as exc:
        raise StoreError(f"{path}: the settings of study {name!r} do not fit this autotune_nb ({exc}); "
                         "the file was probably written by another version") from None


# --- connections ---------------------------------------------------------------------------------
def connect(path: str, *, check_same_thread: bool = True) -> sqlite3.Connection:
    """A connection in autocommit mode (transactions are explicit), WAL, waiting on a busy writer."""
    try:
        connection = sqlite3.connect(path, isolation_level=None, check_same_thread=check_same_thread,
                                     timeout=BUSY_TIMEOUT_MS / 1000)
    except sqlite3.Error as exc:
        raise open_error(path, exc) from None
    try:
        connection.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        connection.execute("PRAGMA synchronous = NORMAL")
        version = connection.execute("PRAGMA user_version").fetchone()[0]
    except sqlite3.DatabaseError as exc:
        connection.close()
        if read_only(path):
            raise open_error(path, exc) from None
        raise StoreError(f"{path!r} is not an autotune_nb study store ({exc}); move it away or pass "
                         f"another path (argument or {ENV_VAR})") from None
    if version > SCHEMA_VERSION:
        connection.close()
        raise StoreError(f"{path!r} holds store schema {version}, written by a newer autotune_nb (this one "
                         f"knows up to {SCHEMA_VERSION}); upgrade autotune_nb")
    return connection


def read_only(path: str) -> bool:
    folder = os.path.dirname(path) or "."
    return os.path.isdir(folder) and not os.access(folder, os.W_OK) or (
        os.path.exists(path) and not os.access(path, os.W_OK))


def open_error(path: str, exc: Exception) -> StoreError:
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


def create_schema(connection: sqlite3.Connection, path: str) -> None:
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
            for statement in SCHEMA.split(";"):
                connection.execute(statement)
        if version == 1:
            connection.execute("ALTER TABLE studies ADD COLUMN owner TEXT")
            connection.execute("ALTER TABLE studies ADD COLUMN heartbeat REAL")
        if version in (1, 2):
            connection.execute("ALTER TABLE trials ADD COLUMN directives TEXT")
        connection.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        connection.execute("COMMIT")
    except sqlite3.DatabaseError as exc:
        connection.close()
        if read_only(path):
            raise open_error(path, exc) from None
        raise StoreError(f"cannot set up the study store {path!r}: {exc}") from None


@contextlib.contextmanager
def transaction(connection: sqlite3.Connection) -> Iterator[None]:
    connection.execute("BEGIN IMMEDIATE")
    try:
        yield
        connection.execute("COMMIT")
    except BaseException:
        if connection.in_transaction:  # a failed COMMIT may have rolled back already
            connection.execute("ROLLBACK")
        raise
