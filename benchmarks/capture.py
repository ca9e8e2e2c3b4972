"""What a large notebook variable costs a study: a 50 MB array shipped to the workers once.

Measured through the notebook path without a kernel: the cell body is compiled with
``notebook.cell.compile_cell``, the names it reads are written by ``notebook.capture.capture`` (a
numpy array of 1 MB or more as an ``.npy`` file that workers memory-map, the rest pickled) and the
study runs the resulting ``CellTrial`` in worker processes (``executor="local"``, concurrency 2,
Random tuner, no store). The cell's trial reads one row of the array and returns at once, so the
shipping is all there is to see. Three namespaces, in the same run:

* ``tiny``: ``X`` is a 8 KB float64 array (pickled with the rest);
* ``50 MB``: ``X`` is a 50 MB float64 array (memory-mapped);
* ``50 MB reloaded per trial``: the peer a trial-per-script tool implies, the cell itself loads the
  array from an ``.npy`` file on every trial (``np.load(PATH)``, page cache warm);
* ``50 MB, trial sums X``: the captured array read in full by every trial (``X.sum()``), against
  ``X.sum()`` on the array in this process's memory: does the memory map slow full reads down?

A trial's duration is the study's (submitted to outcome recorded). Printed: the one-off capture
time, the first trial of each worker (which loads the captured namespace) and the trials after the
first; the cost of the 50 MB array per trial is ``mean(50 MB) - mean(tiny)`` over the trials after
the first (the median difference too, as the machine is shared), and its load cost the same over
each worker's first trial. Each figure is the median of ``--repeats`` runs, the namespaces
interleaved. Target: <= 5 ms per trial after the first.

``--kernel`` also runs the same cell as ``%%autotune`` in a real Jupyter kernel (nbclient; the magic's
own SQLite store, in the temporary folder, and its dashboard are on), tiny vs 50 MB, once each, and
prints the same per-trial figures from the study the magic returns.

    python benchmarks/capture.py [--trials 200] [--repeats 3] [--megabytes 50] [--kernel]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from typing import Any

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import autotune_nb as at  # noqa: E402
from autotune_nb.notebook.capture import CellTrial, capture  # noqa: E402
from autotune_nb.notebook.cell import compile_cell  # noqa: E402

READ_ONE_ROW = "k = at.randint(0, 1_000_000_000)\nfloat(X[0, 0]) + k\n"
SUM_ALL = "k = at.randint(0, 1_000_000_000)\nfloat(X.sum()) + k\n"
RELOAD_EACH_TRIAL = "k = at.randint(0, 1_000_000_000)\nfloat(np.load(PATH)[0, 0]) + k\n"
COLUMNS = 100


def array_of(megabytes: float) -> np.ndarray:
    rows = max(1, int(megabytes * 1e6 / 8 / COLUMNS))
    return np.random.default_rng(0).standard_normal((rows, COLUMNS))


def durations(trials: list[at.Trial]) -> tuple[list[float], list[float]]:
    """(durations of each slot's first trial, durations of all the others), in seconds."""
    first_numbers = {min(t.number for t in trials if t.slot == slot) for slot in {t.slot for t in trials}}
    first = [t.finished_at - t.started_at for t in trials if t.number in first_numbers]
    rest = [t.finished_at - t.started_at for t in trials if t.number not in first_numbers]
    return first, rest


def run_cell(source: str, user_ns: dict[str, Any], trials: int, seed: int) -> dict[str, float]:
    """Compile, capture and run the cell as the magic does; timings in seconds."""
    program = compile_cell(source, user_ns)
    folder = tempfile.mkdtemp(prefix="autotune-bench-")
    try:
        began = time.perf_counter()
        layout = capture(program.reads, user_ns, folder)
        captured = time.perf_counter() - began
        trial = CellTrial(program, folder, layout, cell_text="%%autotune\n" + source)
        study = at.Study(program.declared, tuner="Random", seed=seed, storage=None)
        began = time.perf_counter()
        study.run(trial, max_trials=trials, executor="local", concurrency=2)
        total = time.perf_counter() - began
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    done = study.trials
    assert len(done) == trials and all(t.state == at.TrialState.SUCCEEDED for t in done), \
        (study.counts(), next((t.error for t in done if t.error), None))
    first, rest = durations(done)
    return {"capture": captured, "run": total, "first": statistics.mean(first),
            "rest_mean": statistics.mean(rest), "rest_median": statistics.median(rest)}


def in_process(args: argparse.Namespace, folder: str) -> None:
    big = array_of(args.megabytes)
    path = os.path.join(folder, "X.npy")
    np.save(path, big)
    namespaces = {
        "tiny": (READ_ONE_ROW, {"X": array_of(0.008)}),
        f"{args.megabytes:g} MB": (READ_ONE_ROW, {"X": big}),
        f"{args.megabytes:g} MB reloaded per trial": (RELOAD_EACH_TRIAL, {"np": np, "PATH": path}),
        f"{args.megabytes:g} MB, trial sums X": (SUM_ALL, {"X": big}),
    }
    runs: dict[str, list[dict[str, float]]] = {label: [] for label in namespaces}
    for repeat in range(args.repeats):
        for label, (source, user_ns) in namespaces.items():
            runs[label].append(run_cell(source, user_ns, args.trials, seed=repeat))
    figures = {label: {key: statistics.median(r[key] for r in results) for key in results[0]}
               for label, results in runs.items()}
    print(f"{args.trials} trials, local pool, concurrency 2; X is {big.nbytes / 1e6:.1f} MB "
          f"({big.shape[0]}x{COLUMNS} float64); median of {args.repeats} runs; ms")
    print(f"  {'namespace':<28}{'capture':>9}{'first trial':>13}{'later mean':>12}{'later median':>14}"
          f"{'study.run':>11}")
    for label, f in figures.items():
        print(f"  {label:<28}{f['capture'] * 1e3:>9.1f}{f['first'] * 1e3:>13.2f}{f['rest_mean'] * 1e3:>12.3f}"
              f"{f['rest_median'] * 1e3:>14.3f}{f['run'] * 1e3:>11.0f}")
    tiny, large, reload, summed = (figures[label] for label in namespaces)
    print_costs("in-process study", tiny, large, args.megabytes)
    print(f"  peer, reloading the array in each trial: {(reload['rest_mean'] - tiny['rest_mean']) * 1e3:+.2f} ms per "
          f"trial; its trials take {reload['rest_mean'] / large['rest_mean']:.0f}x as long as with the array shipped once")
    in_memory = min(timed(big.sum) for _ in range(20))
    print(f"  reading all of the memory-mapped X in a trial: {(summed['rest_mean'] - tiny['rest_mean']) * 1e3:.2f} ms per "
          f"trial over the tiny cell, against {in_memory * 1e3:.2f} ms for X.sum() in RAM in this process "
          f"(ratio {(summed['rest_mean'] - tiny['rest_mean']) / in_memory:.2f})")


def timed(fn) -> float:
    began = time.perf_counter()
    fn()
    return time.perf_counter() - began


def print_costs(where: str, tiny: dict[str, float], large: dict[str, float], megabytes: float) -> None:
    print(f"{where}: the {megabytes:g} MB array costs")
    print(f"  per trial after the first: {(large['rest_mean'] - tiny['rest_mean']) * 1e3:+.3f} ms (means), "
          f"{(large['rest_median'] - tiny['rest_median']) * 1e3:+.3f} ms (medians)   (target <= 5 ms)")
    print(f"  each worker's first trial (loads the namespace): {(large['first'] - tiny['first']) * 1e3:+.2f} ms")
    print(f"  capture, once per study: {(large['capture'] - tiny['capture']) * 1e3:+.1f} ms")


# --- the same through a real kernel ---------------------------------------------------------------
SETUP_CELL = """\
import json, os, statistics
os.environ["AUTOTUNE_NB_STORE"] = os.path.abspath("autotune_nb.db")  # the temporary folder's store
import numpy as np
import autotune_nb as at
%load_ext autotune_nb
X = np.random.default_rng(0).standard_normal(({rows}, {columns}))
"""
TUNE_CELL = """\
%%autotune --tuner Random --trials {trials} --concurrency 2 --seed 0 --name {name} --out study
k = at.randint(0, 1_000_000_000)
float(X[0, 0]) + k
"""
STATS_CELL = """\
trials = study.trials
firsts = {min(t.number for t in trials if t.slot == s) for s in {t.slot for t in trials}}
rest = [t.finished_at - t.started_at for t in trials if t.number not in firsts]
first = [t.finished_at - t.started_at for t in trials if t.number in firsts]
print(json.dumps({"first": statistics.mean(first), "rest_mean": statistics.mean(rest),
                  "rest_median": statistics.median(rest),
                  "ok": sum(t.state == at.TrialState.SUCCEEDED for t in trials)}))
"""


def through_kernel(rows: int, trials: int, folder: str, label: str) -> dict[str, float]:
    import nbformat
    from nbclient import NotebookClient

    cells = [SETUP_CELL.format(rows=rows, columns=COLUMNS),
             TUNE_CELL.format(trials=trials, name=f"capture-{label}"), STATS_CELL]
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source) for source in cells])
    NotebookClient(nb, kernel_name="python3", timeout=600, resources={"metadata": {"path": folder}}).execute()
    text = "".join(output.get("text", "") for output in nb.cells[2].outputs if output.get("name") == "stdout")
    figures = json.loads(text)
    assert figures.pop("ok") == trials, figures
    return figures


def in_kernel(args: argparse.Namespace, folder: str) -> None:
    big_rows = max(1, int(args.megabytes * 1e6 / 8 / COLUMNS))
    tiny = through_kernel(10, args.trials, folder, "tiny")
    large = through_kernel(big_rows, args.trials, folder, "large")
    print(f"real kernel (nbclient), %%autotune, {args.trials} trials, concurrency 2, one run each; ms")
    for label, f in (("tiny", tiny), (f"{args.megabytes:g} MB", large)):
        print(f"  {label:<10} first trial {f['first'] * 1e3:8.2f}   later mean {f['rest_mean'] * 1e3:7.3f}   "
              f"later median {f['rest_median'] * 1e3:7.3f}")
    print(f"  per trial after the first: {(large['rest_mean'] - tiny['rest_mean']) * 1e3:+.3f} ms (means), "
          f"{(large['rest_median'] - tiny['rest_median']) * 1e3:+.3f} ms (medians)   (target <= 5 ms)")
    print(f"  each worker's first trial: {(large['first'] - tiny['first']) * 1e3:+.2f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--megabytes", type=float, default=50.0)
    parser.add_argument("--kernel", action="store_true", help="also run the cell in a real kernel (nbclient)")
    args = parser.parse_args()
    print(f"{os.cpu_count()} CPUs, Python {sys.version.split()[0]}, numpy {np.__version__}")
    with tempfile.TemporaryDirectory() as folder:
        in_process(args, folder)
        if args.kernel:
            in_kernel(args, folder)


if __name__ == "__main__":
    main()
