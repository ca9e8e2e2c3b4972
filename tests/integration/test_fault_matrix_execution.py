"""Faults of the execution layer, one test per case, on real processes and real files.

* A study process killed with SIGKILL leaves its run folders (the shipped namespace, the pickled
  trial function) in the temp directory: the next run of any autotune_nb process removes them.
* A ``KeyboardInterrupt`` a trial raises in its worker fails that trial, naming it; inline, it is
  still the user's interrupt of the study.
* ``at.report`` from a thread a trial started reaches the study on local workers; where the trial
  cannot be told (inline, a thread left over from an earlier trial) it raises, naming why.
* A finished study saved in a notebook is capped: a 1,000-trial bundle stays under 100 kB and says
  what it leaves out.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import nbformat
import pytest

import autotune_nb as at
from autotune_nb import TrialState
from autotune_nb.views.static import MIME_TYPE
from autotune_nb.testing import scripted  # noqa: F401  (registers the "Scripted" tuner)

pytestmark = pytest.mark.timeout(120)

REPO = Path(__file__).resolve().parents[2]
SPACE = {"action": at.choice(["interrupt", "return", "report_from_thread", "leave_thread", "join_old_thread"])}


def scripted_study(*actions: str) -> at.Study:
    return at.Study(SPACE, tuner="Scripted", tuner_args={"configs": [{"action": a} for a in actions]})


# --- 12: a killed study's run folders are swept by the next run -------------------------------------
KILLED_CHILD = textwrap.dedent("""
    import sys
    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance()
    cells = [
        "%load_ext autotune_nb",
        f"import time\\nimport numpy as np\\nBIG = np.ones(2 ** 18)\\nMARKER = {sys.argv[1]!r}",  # 2 MB: memory-mapped
        "%%autotune --tuner Random --trials 1 --name killed\\n"
        "x = at.uniform(0, 1)\\n"
        "open(MARKER, 'w').close()\\n"
        "time.sleep(600)\\n"
        "x + float(BIG[0])\\n",
    ]
    for cell in cells:
        shell.run_cell(cell).raise_error()
""")

NEXT_RUN = "import autotune_nb as at; at.Study({'x': at.uniform(0, 1)}, tuner='Random').run(lambda p: p['x'], max_trials=1)"


def autotune_entries(folder: Path) -> list[str]:
    return sorted(entry.name for entry in folder.iterdir() if entry.name.startswith("autotune-"))


def test_the_run_folders_of_a_study_process_killed_with_sigkill_are_swept_by_the_next_run(tmp_path):
    temp, marker = tmp_path / "tmp", tmp_path / "trial-started"
    temp.mkdir()
    env = {**os.environ, "TMPDIR": str(temp), "PYTHONPATH": str(REPO)}
    child = subprocess.Popen([sys.executable, "-c", KILLED_CHILD, str(marker)], cwd=tmp_path, env=env)
    try:
        while not marker.exists():  # the trial runs: the namespace and the function are shipped
            assert child.poll() is None, f"the study process ended early with code {child.returncode}"
            time.sleep(0.1)
        child.send_signal(signal.SIGKILL)
        assert child.wait() == -signal.SIGKILL
    finally:
        child.kill()
    left = autotune_entries(temp)
    assert left, "the killed study left nothing behind: the test did not reach the trial"

    subprocess.run([sys.executable, "-c", NEXT_RUN], cwd=tmp_path, env=env, check=True)
    assert autotune_entries(temp) == [], f"left behind by the killed study: {left}"


# --- 15a: a KeyboardInterrupt raised by a trial --------------------------------------------------------
def interrupt_or_return(params):
    if params["action"] == "interrupt":
        raise KeyboardInterrupt("raised by the trial's own code")
    return 1.0


def test_a_keyboard_interrupt_raised_in_a_worker_fails_that_trial_and_inline_still_interrupts_the_study():
    study = scripted_study("interrupt", "return").run(interrupt_or_return, max_trials=2)
    interrupted, returned = study.trials
    assert interrupted.state == TrialState.FAILED
    assert interrupted.reason == "KeyboardInterrupt: raised by the trial's own code"
    assert 'raise KeyboardInterrupt("raised by the trial\'s own code")' in interrupted.error
    assert returned.state == TrialState.SUCCEEDED and study.state == "finished"

    # In the study's own thread a KeyboardInterrupt is the user's Ctrl-C: the study ends "interrupted".
    inline = scripted_study("interrupt", "return").run(interrupt_or_return, max_trials=2, executor="inline")
    assert [t.state for t in inline.trials] == [TrialState.CANCELED]
    assert inline.stop_reason == "interrupted"


# --- 15b: at.report from a thread the trial started -------------------------------------------------
_left_behind: dict[str, object] = {}  # in a worker process: the thread an earlier trial left running


def report_three_times(errors: list[str]) -> None:
    for value in (0.25, 0.5, 0.75):
        try:
            at.report(value)
        except Exception as exc:
            errors.append(f"{type(exc).__name__}: {exc}")


def report_from_threads(params):
    errors: list[str] = []
    if params["action"] == "report_from_thread":
        thread = threading.Thread(target=report_three_times, args=(errors,))
        thread.start()
        thread.join()
    elif params["action"] == "leave_thread":  # a thread that reports once the next trial runs
        go = threading.Event()
        thread = threading.Thread(target=lambda: (go.wait(), report_three_times(errors)), daemon=True)
        thread.start()
        _left_behind.update(go=go, thread=thread, errors=errors)
    elif params["action"] == "join_old_thread":
        _left_behind["go"].set()
        _left_behind["thread"].join()
        errors = _left_behind["errors"]
    return {"default": 1.0, "thread_errors": errors}


def test_reports_from_a_thread_a_trial_started_reach_the_study_on_local_workers():
    study = scripted_study("report_from_thread").run(report_from_threads, max_trials=1, concurrency=1)
    (trial,) = study.trials
    assert trial.metrics["thread_errors"] == []
    assert trial.intermediates == ((1, 0.25), (2, 0.5), (3, 0.75))
    assert at.Study.load(study.name).trials[0].intermediates == trial.intermediates  # in the store too


def test_a_report_from_a_thread_left_by_an_earlier_trial_raises_instead_of_reaching_the_running_one():
    study = scripted_study("leave_thread", "join_old_thread").run(report_from_threads, max_trials=2, concurrency=1)
    _, later = study.trials
    assert later.state == TrialState.SUCCEEDED and later.intermediates == ()
    assert len(later.metrics["thread_errors"]) == 3
    assert later.metrics["thread_errors"][0].startswith(
        "ReportFromThreadError: at.report was called from thread 'Thread-")
    assert "which no running trial started" in later.metrics["thread_errors"][0]


def test_a_report_from_a_thread_of_an_inline_trial_raises_naming_the_rule():
    study = scripted_study("report_from_thread").run(report_from_threads, max_trials=1, executor="inline")
    (trial,) = study.trials
    assert trial.state == TrialState.SUCCEEDED and trial.intermediates == ()
    errors = trial.metrics["thread_errors"]
    assert len(errors) == 3 and errors[0].startswith("ReportFromThreadError: at.report was called from thread")
    assert f"while trial(s) {trial.number} run in this process" in errors[0]
    assert "executor='local'" in errors[0]


# --- 15c: what a saved notebook keeps of a large study ---------------------------------------------------
def curve_then_result(params):
    for step in range(20):
        at.report(params["x"] * step / 20)
    if params["x"] > 4:
        raise ValueError(f"x too large: {params['x']:.3f}")
    return -(params["x"] - 1) ** 2


def test_a_saved_notebook_keeps_a_capped_1000_trial_study_under_100_kb_and_says_so(tmp_path):
    study = at.Study({"x": at.uniform(-5, 5), "act": at.choice(["relu", "tanh"])}, tuner="Random", seed=7)
    study.run(curve_then_result, max_trials=1000, max_failures=1000, executor="inline")
    bundle = study._repr_mimebundle_()
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell("study", outputs=[
        nbformat.v4.new_output("execute_result", data=bundle, execution_count=1)])]
    path = tmp_path / "saved.ipynb"
    nbformat.write(notebook, path)

    assert path.stat().st_size < 100_000
    document = nbformat.read(path, as_version=4).cells[0].outputs[0].data[MIME_TYPE]
    document = json.loads(json.dumps(document))
    assert document["trials_total"] == 1000 and document["trials_shown"] == len(document["trials"]) < 1000
    assert document["counts"] == study.counts()
    assert study.best.number in {t["number"] for t in document["trials"]}
    note = f"Showing {document['trials_shown']} of 1000 trials"
    assert document["note"].startswith(note) and f"%autotune export {study.name}" in document["note"]
    assert note in bundle["text/html"]
