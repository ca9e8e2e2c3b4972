"""The ``autotune-nb`` console script in a real subprocess: ``nni``, ``list``, ``show``, ``export``, Ctrl-C."""

from __future__ import annotations

import json
import os
import pathlib
import signal
import subprocess
import sys
import tomllib

import pytest

from autotune_nb.execution.command_trial import trial_folder
from autotune_nb.testing.waiting import wait_for
from tests.integration.test_nni_command_trials import experiment, gone

pytestmark = pytest.mark.timeout(300)

REPO = pathlib.Path(__file__).resolve().parents[2]


def console_script() -> list[str]:
    """The command line of the ``autotune-nb`` entry point that pyproject.toml declares, run with this Python
    (the same function an installed ``autotune-nb`` calls, whether or not this checkout is installed)."""
    entry = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["scripts"]["autotune-nb"]
    module, function = entry.split(":")
    return [sys.executable, "-c", f"import sys; from {module} import {function}; sys.exit({function}())"]


def autotune_nb(*args: str, store, **popen) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(REPO), "AUTOTUNE_NB_STORE": str(store)}
    return subprocess.Popen([*console_script(), *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, **popen)


def finished(*args: str, store) -> tuple[int, str, str]:
    process = autotune_nb(*args, store=store)
    out, err = process.communicate(timeout=240)
    return process.returncode, out, err


def test_nni_prints_a_line_per_trial_and_a_summary_and_the_store_reads_back(tmp_path):
    store = tmp_path / "store.db"
    config = experiment(tmp_path, "success")
    status, out, err = finished("nni", config, "--trials", "3", "--concurrency", "2", "--name", "cli", store=store)
    assert status == 0, err
    lines = out.splitlines()
    assert sum(line.startswith("trial ") and " SUCCEEDED " in line for line in lines) == 3
    assert lines[-1].startswith("study 'cli': 3 trials (3 succeeded); best ")

    status, out, _ = finished("list", store=store)
    assert status == 0 and out.split()[:2] == ["cli", "finished"]
    status, out, _ = finished("show", "cli", store=store)
    assert status == 0 and out.count(" SUCCEEDED ") == 3
    status, out, _ = finished("export", "cli", str(tmp_path / "cli.json"), store=store)
    document = json.loads((tmp_path / "cli.json").read_text())
    assert status == 0 and len(document["trials"]) == 3

    status, _, err = finished("show", "nobody", store=store)
    assert status == 1 and "nobody" in err


def test_ctrl_c_cancels_the_running_commands_keeps_the_study_and_exits_130(tmp_path):
    store = tmp_path / "store.db"
    process = autotune_nb("nni", experiment(tmp_path, "sleep"), "--trials", "2", "--concurrency", "2",
                          "--name", "interrupted", store=store)
    folder = pathlib.Path(f"{store}.studies") / "interrupted"
    started = [pathlib.Path(trial_folder(str(folder), n)) for n in (0, 1)]
    wait_for(lambda: all((path / "sleeping.json").exists() for path in started), 120, "both commands to start")
    grandchildren = [json.loads((path / "grandchild.json").read_text()) for path in started]
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=120)

    assert process.returncode == 130, err
    assert "study 'interrupted': 2 trials (2 canceled); no trial succeeded; interrupted" in out
    wait_for(lambda: all(gone(pid) for pid in grandchildren), 30, f"the grandchildren {grandchildren} to end")
    status, out, _ = finished("show", "interrupted", store=store)
    assert status == 0 and out.count(" CANCELED ") == 2
