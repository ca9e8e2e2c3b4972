"""Start-up: what the first ``at.Study(...)`` of a fresh process costs, and where the time goes.

Each case runs in a fresh Python process, ``--repeats`` times; the figures are medians:

* ``create``: seconds from before ``import autotune_nb`` to after ``at.Study(...)`` returned
  (space of two parameters, no store), measured in the child with ``time.perf_counter``;
* ``first suggest``: the tuner's first ``suggest(1)`` after that (what a run pays next: TPE's Sobol
  design imports scipy.stats there);
* ``process``: the child's whole life as the parent sees it (interpreter start included).

Cases: TPE without an assessor (the target: create <= 0.3 s), TPE + Medianstop, Random (hyperopt),
GP; and two peers in the same run: a process that only imports numpy (the floor: every study needs
numpy) and optuna's ``create_study`` + first ``ask`` (when optuna is installed). Then the import
costs of the TPE case by top-level package (``python -X importtime``, self time summed, imports
after the script's start only).

    python benchmarks/startup.py [--repeats 7]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from collections import defaultdict

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

_STUDY = """
import sys, time, json
sys.stderr.write("-- start\\n"); sys.stderr.flush()
t0 = time.perf_counter()
import autotune_nb as at
study = at.Study({{"x": at.uniform(0, 1), "n": at.choice([1, 2, 3])}}, tuner={tuner!r}, assessor={assessor!r},
                 storage=None, seed=0)
t1 = time.perf_counter()
sys.stderr.write("-- suggest\\n"); sys.stderr.flush()
study.tuner.suggest(1)
t2 = time.perf_counter()
print(json.dumps({{"create": t1 - t0, "suggest": t2 - t1}}))
"""

_NUMPY_ONLY = """
import time, json
t0 = time.perf_counter()
import numpy
print(json.dumps({"create": time.perf_counter() - t0, "suggest": 0.0}))
"""

_OPTUNA = """
import time, json
t0 = time.perf_counter()
import optuna
optuna.logging.set_verbosity(optuna.logging.WARNING)
study = optuna.create_study()
t1 = time.perf_counter()
study.ask({"x": optuna.distributions.FloatDistribution(0, 1)})
print(json.dumps({"create": t1 - t0, "suggest": time.perf_counter() - t1}))
"""

CASES = {
    "TPE, no assessor": _STUDY.format(tuner="TPE", assessor=None),
    "TPE + Medianstop": _STUDY.format(tuner="TPE", assessor="Medianstop"),
    "Random": _STUDY.format(tuner="Random", assessor=None),
    "GP": _STUDY.format(tuner="GP", assessor=None),
    "peer: import numpy only": _NUMPY_ONLY,
    "peer: optuna create_study": _OPTUNA,
}


def _child_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [ROOT, env.get("PYTHONPATH")]))
    return env


def run_case(name: str, code: str, repeats: int) -> dict[str, float] | None:
    """Medians of create, first suggest and process seconds; None when the case cannot run here."""
    runs = []
    for _ in range(repeats):
        start = time.perf_counter()
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=_child_env())
        elapsed = time.perf_counter() - start
        if done.returncode != 0:
            print(f"{name:28s} cannot run here: {done.stderr.strip().splitlines()[-1]}")
            return None
        runs.append({**json.loads(done.stdout), "process": elapsed})
    return {key: statistics.median(run[key] for run in runs) for key in runs[0]}


def import_costs(code: str) -> dict[str, dict[str, float]]:
    """Per phase of the script ("create", "suggest"): seconds of import (self time) per top-level
    package, largest first. Imports before the script started (the interpreter's site) are left out."""
    done = subprocess.run([sys.executable, "-X", "importtime", "-c", code], capture_output=True, text=True,
                          env=_child_env(), check=True)
    phases: dict[str, dict[str, float]] = {}
    costs: dict[str, float] | None = None
    for line in done.stderr.splitlines():
        if line in ("-- start", "-- suggest"):
            costs = phases.setdefault("create" if line == "-- start" else "suggest", defaultdict(float))
        elif costs is not None and line.startswith("import time:") and "self [us]" not in line:
            self_us, _cumulative, name = line[len("import time:"):].split("|")
            costs[name.strip().split(".")[0]] += int(self_us) / 1e6
    return {phase: dict(sorted(c.items(), key=lambda item: -item[1])) for phase, c in phases.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--top", type=int, default=8, help="packages listed in the import costs")
    args = parser.parse_args()

    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"python {sys.version.split()[0]}, {args.repeats} fresh processes per case, medians; "
          f"load average {load} on {os.cpu_count()} cores")
    print(f"{'case':28s} {'create':>9s} {'1st suggest':>12s} {'process':>9s}")
    figures = {}
    for name, code in CASES.items():
        figures[name] = result = run_case(name, code, args.repeats)
        if result is not None:
            print(f"{name:28s} {result['create']:8.3f}s {result['suggest']:11.3f}s {result['process']:8.3f}s",
                  flush=True)
    tpe, floor = figures["TPE, no assessor"], figures["peer: import numpy only"]
    print(f"\nTPE study created in {tpe['create']:.3f} s (target <= 0.3 s: "
          f"{'met' if tpe['create'] <= 0.3 else 'MISSED'}); {tpe['create'] / floor['create']:.1f}x numpy's import")
    if figures["peer: optuna create_study"] is not None:
        optuna = figures["peer: optuna create_study"]
        print(f"vs optuna create_study: {tpe['create'] / optuna['create']:.2f}x; "
              f"create + first suggest {(tpe['create'] + tpe['suggest']) / (optuna['create'] + optuna['suggest']):.2f}x")

    print("\nimport self time by top-level package, TPE study (python -X importtime, one run):")
    for phase, costs in import_costs(CASES["TPE, no assessor"]).items():
        print(f"  {phase} (all: {sum(costs.values()) * 1000:.1f} ms)")
        for package, seconds in list(costs.items())[: args.top]:
            print(f"    {package:24s} {seconds * 1000:7.1f} ms")


if __name__ == "__main__":
    main()
