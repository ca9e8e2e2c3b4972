"""Per-trial overhead of the whole study with its SQLite store on: trials/s for no-op trials.

1,000 no-op trials (the result is the parameter itself) with the Random tuner and every trial
change written to a SQLite file, run by:

* ours, worker processes at concurrency 2 (``executor="local"``): the figure the target is about;
* ours, in this process (``executor="inline"``);
* optuna's ``study.optimize`` in this process with ``RandomSampler`` and SQLite
  (``"sqlite:///..."``, i.e. ``RDBStorage``);
* optuna with its journal file (``JournalStorage(JournalFileBackend(...))``), when optuna has it.

trials/s = trials / seconds of ``study.run`` / ``study.optimize`` (creating the study and its
store is not counted; for ours the pool's start-up is, ~0.6 s at concurrency 2, so the rate over
the trial phase alone, first trial started to last one finished, is printed too). Each figure is
the best of ``--repeats`` runs; the database files live in a temporary folder, and each one's
trial count is checked after the run (so the store really held every trial).
Target: >= 500 trials/s at concurrency 2, and >= optuna with SQLite.

    python benchmarks/overhead.py [--trials 1000] [--repeats 1] [--seed 0]
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import sys
import tempfile
import time
import warnings
from typing import Callable

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import autotune_nb as at  # noqa: E402
from autotune_nb.store import StudyStore  # noqa: E402

SPACE = {"x": at.uniform(0.0, 1.0)}


def no_op(params):
    return params["x"]


def ours(folder: str, trials: int, seed: int, **run_options) -> tuple[float, float]:
    """(seconds of study.run, seconds from the first trial's start to the last one's end)."""
    path = os.path.join(folder, f"ours-{time.monotonic_ns()}.db")
    store = StudyStore(path)
    study = at.Study(SPACE, tuner="Random", direction="minimize", seed=seed, name="overhead", storage=store)
    began = time.perf_counter()
    study.run(no_op, max_trials=trials, **run_options)
    total = time.perf_counter() - began
    store.close()
    done = study.trials
    assert len(done) == trials and all(t.state == at.TrialState.SUCCEEDED for t in done), study.counts()
    assert _rows(path, "SELECT COUNT(*) FROM trials WHERE state = 'SUCCEEDED'") == trials
    return total, max(t.finished_at for t in done) - min(t.started_at for t in done)


def optuna_run(storage_for: Callable[[str], object], folder: str, trials: int, seed: int) -> float:
    import optuna

    storage = storage_for(folder)
    study = optuna.create_study(storage=storage, sampler=optuna.samplers.RandomSampler(seed=seed),
                                study_name="overhead", direction="minimize")
    began = time.perf_counter()
    study.optimize(lambda trial: trial.suggest_float("x", 0.0, 1.0), n_trials=trials)
    total = time.perf_counter() - began
    assert len(study.get_trials(deepcopy=False)) == trials
    return total


def optuna_sqlite(folder: str) -> str:
    path = os.path.join(folder, f"optuna-{time.monotonic_ns()}.db")
    return f"sqlite:///{path}"


def optuna_journal(folder: str):
    from optuna.storages import JournalStorage
    from optuna.storages.journal import JournalFileBackend

    return JournalStorage(JournalFileBackend(os.path.join(folder, f"optuna-{time.monotonic_ns()}.log")))


def journal_available() -> str | None:
    """None when optuna has the journal file backend, else why not."""
    try:
        from optuna.storages import JournalStorage  # noqa: F401
        from optuna.storages.journal import JournalFileBackend  # noqa: F401
    except ImportError as exc:
        return f"{type(exc).__name__}: {exc}"
    return None


def _rows(path: str, query: str) -> int:
    connection = sqlite3.connect(path)
    try:
        return connection.execute(query).fetchone()[0]
    finally:
        connection.close()


def best_of(repeats: int, measure: Callable[[], float | tuple[float, float]]):
    results = [measure() for _ in range(repeats)]
    return min(results, key=lambda r: r[0] if isinstance(r, tuple) else r)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=1, help="runs per entrant; the best is printed")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)
    n = args.trials
    print(f"{os.cpu_count()} CPUs, Python {sys.version.split()[0]}, SQLite {sqlite3.sqlite_version}, "
          f"optuna {optuna.__version__}; {n} no-op trials, Random tuner/sampler, best of {args.repeats}")
    with tempfile.TemporaryDirectory() as folder:
        local_total, local_phase = best_of(args.repeats, lambda: ours(folder, n, args.seed, concurrency=2))
        inline_total, _ = best_of(args.repeats, lambda: ours(folder, n, args.seed, executor="inline"))
        optuna_sql = best_of(args.repeats, lambda: optuna_run(optuna_sqlite, folder, n, args.seed))
        missing = journal_available()
        optuna_jrn = None if missing else best_of(
            args.repeats, lambda: optuna_run(optuna_journal, folder, n, args.seed))

    print(f"  ours, local, concurrency 2, SQLite   {n / local_total:8.0f} trials/s   ({local_total:.2f} s, "
          f"incl. worker start-up; {n / local_phase:.0f}/s over the trial phase)")
    print(f"  ours, inline, SQLite                 {n / inline_total:8.0f} trials/s   ({inline_total:.2f} s)")
    print(f"  optuna optimize, SQLite (RDBStorage) {n / optuna_sql:8.0f} trials/s   ({optuna_sql:.2f} s)")
    if optuna_jrn is None:
        print(f"  optuna optimize, journal file: not available in optuna {optuna.__version__} ({missing})")
    else:
        print(f"  optuna optimize, journal file        {n / optuna_jrn:8.0f} trials/s   ({optuna_jrn:.2f} s)")
    print(f"ratio ours (local, c=2) / optuna SQLite: {optuna_sql / local_total:.1f}x  "
          f"(target: >= 500 trials/s and >= optuna)")
    print(f"ratio ours (inline) / optuna SQLite:     {optuna_sql / inline_total:.1f}x")
    if optuna_jrn is not None:
        print(f"ratio ours (local, c=2) / optuna journal: {optuna_jrn / local_total:.2f}x;  "
              f"ours (inline) / optuna journal: {optuna_jrn / inline_total:.2f}x")


if __name__ == "__main__":
    main()
