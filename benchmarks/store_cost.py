"""What the SQLite store costs the study loop: µs per ``save_trial`` over 10,000 trial updates.

Each trial is saved twice (RUNNING, then SUCCEEDED with metrics), as the study does. Printed:
the caller's cost per save (what the loop pays: queueing), the flush that follows (the writer catching
up), the end-to-end cost per update (all saves plus the flush), and, for comparison, the same updates
committed one by one in the caller's thread (the design the writer thread replaces). Then the regime
of a fast study: updates 1 ms apart, where the CPU the store adds to the process (writer included)
is the figure that matters.

    python benchmarks/store_cost.py [--updates 10000]
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from autotune_nb.store import StudyStore  # noqa: E402
from autotune_nb.store.schema import UPSERT_TRIAL, connect, trial_row  # noqa: E402
from autotune_nb.config import StudyConfig  # noqa: E402
from autotune_nb.trial import Trial, TrialState  # noqa: E402

SPACE = {
    "lr": {"_type": "loguniform", "_value": [1e-4, 0.1]},
    "units": {"_type": "quniform", "_value": [16, 256, 16]},
    "act": {"_type": "choice", "_value": ["relu", "tanh"]},
}


def updates(n_updates: int) -> list[Trial]:
    """Two snapshots per trial, as the loop makes them: started, then finished."""
    records = []
    now = time.time()
    for number in range(n_updates // 2):
        params = {"lr": 10 ** -(1 + number % 3), "units": 16 * (1 + number % 16), "act": "relu"}
        running = Trial(number=number, params=params, state=TrialState.RUNNING, started_at=now, slot=number % 2)
        records += [running, running.replace(state=TrialState.SUCCEEDED, value=0.5 + number * 1e-6,
                                             metrics={"loss": 0.25, "epochs": 10}, finished_at=now + 0.01)]
    return records


def through_store(path: str, records: list[Trial]) -> tuple[float, float]:
    store = StudyStore(path)
    store.create_study(StudyConfig(name="bench", space=SPACE))
    start = time.perf_counter()
    for trial in records:
        store.save_trial("bench", trial)
    queued = time.perf_counter()
    store.flush()
    flushed = time.perf_counter()
    store.close()
    return queued - start, flushed - queued


def committed_in_caller(path: str, records: list[Trial]) -> float:
    StudyStore(path).close()  # the schema
    connection = connect(path)
    start = time.perf_counter()
    for trial in records:
        connection.execute("BEGIN IMMEDIATE")
        connection.execute(UPSERT_TRIAL, trial_row("bench", trial))
        connection.execute("COMMIT")
    elapsed = time.perf_counter() - start
    connection.close()
    return elapsed


def paced(path: str | None, records: list[Trial], gap: float) -> float:
    """Process CPU seconds for saving ``records`` ``gap`` seconds apart (no store: the pacing alone)."""
    store = StudyStore(path) if path else None
    if store:
        store.create_study(StudyConfig(name="bench", space=SPACE))
    start = time.process_time()
    for trial in records:
        if store:
            store.save_trial("bench", trial)
        time.sleep(gap)
    if store:
        store.close()
    return time.process_time() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--updates", type=int, default=10_000)
    parser.add_argument("--paced-updates", type=int, default=1_000)
    args = parser.parse_args()
    records = updates(args.updates)
    n = len(records)
    few = records[:args.paced_updates]
    with tempfile.TemporaryDirectory() as folder:
        queued, flush = through_store(os.path.join(folder, "store.db"), records)
        direct = committed_in_caller(os.path.join(folder, "direct.db"), records)
        store_cpu = paced(os.path.join(folder, "paced.db"), few, 0.001) - paced(None, few, 0.001)
    print(f"SQLite {sqlite3.sqlite_version}, {n} trial updates ({n // 2} trials x 2)")
    print(f"save_trial, caller's cost : {queued / n * 1e6:7.1f} µs per update")
    print(f"flush after the last save : {flush * 1e3:7.1f} ms")
    print(f"end to end (saves + flush): {(queued + flush) / n * 1e6:7.1f} µs per update")
    print(f"commit per update, caller : {direct / n * 1e6:7.1f} µs per update (the alternative design)")
    print(f"paced 1 ms apart ({len(few)})   : {store_cpu / len(few) * 1e6:7.1f} µs of process CPU per update")


if __name__ == "__main__":
    main()
