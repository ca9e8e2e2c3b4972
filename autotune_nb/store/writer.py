"""The one thread of a process that writes a store file (see ``sqlite.StudyStore``)."""

from __future__ import annotations

import concurrent.futures
import dataclasses
import queue
import sqlite3
import threading
import time
from typing import Any, Callable, Sequence

from ..errors import StoreError
from ..trial import Trial
from .lease import HEARTBEAT_S, Lease
from .schema import UPSERT_TRIAL, transaction, trial_row

#: How long the writer lets trial updates gather before committing them together: a commit costs
#: ~60 µs of the writer's time, a row ~15 µs; waiting 5 ms halves the writer's cost at 1,000 updates/s.
GROUP_COMMIT_S = 0.005

STOP = object()


class Barrier:
    """Queued by ``flush``: set once everything queued before it is committed."""

    def __init__(self) -> None:
        self.done = threading.Event()


@dataclasses.dataclass
class Call:
    """A study-level operation run on the writer's connection; its result goes to ``future``."""

    action: Callable[[sqlite3.Connection], Any]
    future: concurrent.futures.Future = dataclasses.field(default_factory=concurrent.futures.Future)


class Writer:
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
            if item is STOP:
                return True
            if isinstance(item, Barrier):
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
                rows.append(trial_row(study, trial))
            except Exception as exc:  # a record no retry can save: say so, drop it
                problems.append(f"could not save trial {trial.number} of study {study!r} to {self.path!r}: {exc}")
        try:
            with transaction(self.connection):
                refused = self._studies_leased_elsewhere({row[0] for row in rows})
                kept = [row for row in rows if row[0] not in refused]
                self.connection.executemany(UPSERT_TRIAL, kept)
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
            problems.append(f"trial(s) {numbers_in_words(numbers)} of study {study!r} were not saved: the study is "
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
            lease = Lease.from_text(row[0] if row else None)
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
            with transaction(self.connection):
                self.connection.executemany(
                    "UPDATE studies SET heartbeat = ? WHERE name = ? AND json_extract(owner, '$.run') = ?",
                    [(now, name, run) for name, run in list(self.leases.items())])
        except sqlite3.Error:
            pass  # a busy or full file: the next beat tries again, well within LEASE_TIMEOUT_S

    def _run_call(self, call: Call) -> None:
        try:
            with transaction(self.connection):
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
        problems += [f"trial(s) {numbers_in_words(sorted(numbers))} of study {study!r} are not on disk ({self.write_error}): "
                     "they are kept in memory and saved at the store's next write that succeeds (a flush, "
                     "a trial, the next run)" for study, numbers in by_study.items()]
        return StoreError("; ".join(problems)) if problems else None

    def stop(self) -> None:
        if self.thread.is_alive():
            self.queue.put(STOP)
            self.thread.join()
        self.connection.close()


def numbers_in_words(numbers: Sequence[int]) -> str:
    shown = ", ".join(map(str, numbers[:20]))
    return shown + (f" and {len(numbers) - 20} more" if len(numbers) > 20 else "")
