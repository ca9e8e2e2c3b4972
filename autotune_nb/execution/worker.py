"""What runs inside a worker process: load the study's trial function once, then run trials.

A job carries only the study's handle (a key, the path of the pickled function, the report
channel's endpoint), the trial number and its parameters. The worker keeps the loaded function and
its channel connection for the study it last served, so the function crosses the process boundary
once per worker, not once per trial. Dask workers share no file system with the study: there the
pool ``install``s the pickled function in each worker process ahead of its jobs instead.

The trial's own exception comes back as formatted text (the exception object may not pickle), a
``KeyboardInterrupt`` the trial raised included; ``TrialStopped`` becomes the "stopped" outcome.
Only a dying process escapes: the pool sees that.
"""

from __future__ import annotations

import dataclasses
import os
import signal
import threading
import time
from typing import Any, Callable, Mapping

import cloudpickle

from .base import Outcome
from .channel import Endpoint, ReportClient
from .context import dedicate_process, run_with_reports
from .shipping import error_outcome

#: Seconds between two checks that the study process (the worker's parent) is still alive.
ORPHAN_CHECK_INTERVAL = 1.0


@dataclasses.dataclass(frozen=True)
class StudyHandle:
    """How a worker finds a study's trial function and report channel."""

    key: str
    function_path: str | None  # None: the pool installs the function in each worker (``install``)
    endpoint: Endpoint


@dataclasses.dataclass(frozen=True)
class WorkerJob:
    study: StudyHandle
    trial_number: int
    params: Mapping[str, Any]
    study_name: str | None = None  # NNI's experiment id in the trial
    budget: float | None = None
    checkpoint_dir: str | None = None


@dataclasses.dataclass
class _LoadedStudy:
    key: str
    fn: Callable[[dict], Any]
    channel: ReportClient


_loaded: _LoadedStudy | None = None
_installed: dict[str, _LoadedStudy] = {}  # by study key; one process may serve several studies


def initialize_worker() -> None:
    """Worker initializer.

    A Ctrl-C (or a Jupyter interrupt sent to the process group) is for the study, which cancels its
    trials itself: a worker must not turn it into a failed trial, so SIGINT is ignored here.

    A study process that dies without shutting its pool down (a killed kernel) must not leave its
    workers running, busy or idle: a watchdog thread ends the worker once its parent is gone.

    The worker runs one trial at a time for one study, so ``at.report`` from a thread a trial
    started can be delivered to that trial (``context.dedicate_process``).
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    dedicate_process()
    parent = os.getppid()

    def exit_when_orphaned() -> None:
        while os.getppid() == parent:
            time.sleep(ORPHAN_CHECK_INTERVAL)
        os._exit(1)

    threading.Thread(target=exit_when_orphaned, name="autotune-orphan-watchdog", daemon=True).start()


def install(study: StudyHandle, payload: bytes) -> None:
    """Load a study's pickled function and open its channel in this process, until ``uninstall``."""
    fn = cloudpickle.loads(payload)
    try:
        channel = ReportClient(study.endpoint)
    except OSError as exc:
        host, port = study.endpoint.address
        raise ConnectionError(f"cannot reach the study's report channel at {host}:{port} ({exc})") from None
    _installed[study.key] = _LoadedStudy(study.key, fn, channel)


def uninstall(key: str) -> None:
    installed = _installed.pop(key, None)
    if installed is not None:
        installed.channel.close()


def load(study: StudyHandle) -> _LoadedStudy:
    """The study's function and channel, loaded on first use in this process and kept."""
    global _loaded
    if study.function_path is None:
        try:
            return _installed[study.key]
        except KeyError:
            raise RuntimeError(f"the trial function of study {study.key} is not installed in this worker "
                               "(its setup failed: see the worker's log)") from None
    if _loaded is None or _loaded.key != study.key:
        if _loaded is not None:
            _loaded.channel.close()
        with open(study.function_path, "rb") as file:
            fn = cloudpickle.load(file)
        _loaded = _LoadedStudy(study.key, fn, ReportClient(study.endpoint))
    return _loaded


def warm_up(study: StudyHandle) -> None:
    """Run once per new worker, before its first trial: pays the imports and the load up front."""
    load(study)


def run_trial(job: WorkerJob) -> Outcome:
    try:
        study = load(job.study)
    except Exception as exc:  # the function could not be loaded here: this trial fails with why
        return error_outcome(job.trial_number, exc)
    return run_with_reports(study.fn, job.trial_number, job.params, study.channel.report, in_worker=True,
                            experiment_id=job.study_name, budget=job.budget, checkpoint_dir=job.checkpoint_dir)
