"""What a trial costs when it is a command (NNI's trialCommand) rather than a Python function.

Two studies in the same run, same tuner (Random), same number of trials, one slot, LocalPool:

* ``function``: ``Study.run`` of a function that reports 3 intermediate results and returns;
* ``command``: ``run_nni_experiment`` of a folder whose ``python3 trial.py`` does the same through
  ``import nni`` (a subprocess per trial: interpreter start, the ``nni`` shim, the relay).

Printed: seconds per trial of each (the run's wall time over its trials, pool start included) and the
ratio command / function.

    nice -n 10 python benchmarks/command_trials.py [--trials 20]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import autotune_nb as at
from autotune_nb.nni_experiment import run_nni_experiment

PROGRAM = """
import nni
x = nni.get_next_parameter()["x"]
for step in range(1, 4):
    nni.report_intermediate_result(x * step)
nni.report_final_result(x)
"""
SPACE = {"x": {"_type": "uniform", "_value": [0, 1]}}


def function_trial(params):
    for step in range(1, 4):
        at.report(params["x"] * step)
    return params["x"]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--trials", type=int, default=20)
    trials = parser.parse_args().trials
    with tempfile.TemporaryDirectory() as folder:
        store = str(Path(folder, "store.db"))
        start = time.perf_counter()
        at.Study(SPACE, tuner="Random", seed=0, storage=store).run(function_trial, trials, concurrency=1)
        function_s = (time.perf_counter() - start) / trials

        Path(folder, "trial.py").write_text(PROGRAM)
        Path(folder, "config.yml").write_text(json.dumps({"searchSpace": SPACE, "trialCommand": "python3 trial.py",
                                                          "tuner": {"name": "Random"}}))
        start = time.perf_counter()
        study = run_nni_experiment(str(Path(folder, "config.yml")), max_trials=trials, concurrency=1, seed=0,
                                   storage=store)
        command_s = (time.perf_counter() - start) / trials
        assert all(t.state == at.TrialState.SUCCEEDED for t in study.trials)
    print(f"trials per study: {trials}")
    print(f"function trial: {function_s * 1000:8.1f} ms per trial")
    print(f"command trial:  {command_s * 1000:8.1f} ms per trial")
    print(f"ratio command / function: {command_s / function_s:.1f}")


if __name__ == "__main__":
    main()
