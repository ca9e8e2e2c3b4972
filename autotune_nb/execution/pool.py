"""The local pool: concurrent trials in reused worker processes, one loky executor per slot.

loky is the copy joblib ships (``joblib.externals.loky``), not the separate package: one loky in a
notebook whose code also runs ``joblib.Parallel``, at the same cost per trial and 0.06-0.15 s more
per worker start (benchmarks/results/loky_vs_joblib.txt).

Each slot owns a one-process loky ``ProcessPoolExecutor`` whose environment is fixed for the
process's whole life: ``CUDA_VISIBLE_DEVICES`` names the slot's GPU ("" on CPU-only slots, so no
trial grabs a GPU by accident) and the OpenMP/MKL/OpenBLAS thread caps share the CPUs between the
slots, as joblib does. A worker therefore never touches two GPUs, and ``trials_per_gpu`` bounds how
many trials share one. (``get_reusable_executor`` is one executor per process, so it cannot do this.)

The trial function is pickled once per study into a file of the run's private temp folder
(``scratch.py``: removed at shutdown, swept after a killed study); each worker loads it on its
first job and keeps it. A job's outcome reaches the study through the future's done-callback.
A worker that dies ends its trial "died" with the cause; only its slot's executor is rebuilt.

Example:
    >>> import autotune_nb as at
    >>> study = at.Study({"x": at.uniform(0, 1)}, tuner="Random", seed=0)
    >>> _ = study.run(lambda p: p["x"], max_trials=4, executor=LocalPool(2))  # doctest: +SKIP
"""

from __future__ import annotations

import dataclasses
import functools
import os
import re
import threading
import uuid
from concurrent.futures import Future
from typing import Any, Callable, Mapping, Sequence

from joblib.externals.loky import ProcessPoolExecutor, cpu_count
from joblib.externals.loky.process_executor import BrokenProcessPool, TerminatedWorkerError

from ..vocabulary import OutcomeKind
from . import scratch, worker
from .base import EventSink, Outcome, Pool, Slot, TrialJob
from .channel import ReportServer
from .shipping import UNSENDABLE, error_outcome, pickle_function, unloadable
from .slots import plan_slots

THREAD_LIMIT_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")

_EXIT_CODE = re.compile(r"\{([A-Z]+\d*)\((-?\d+)\)")  # loky's "The exit codes of the workers are {SIGKILL(-9)}"
_SIGNAL_HINTS = {
    "SIGKILL": "; out of memory? (the kernel's OOM killer sends SIGKILL)",
    "SIGSEGV": "; a segmentation fault in native code",
    "SIGBUS": "; a bus error in native code",
    "SIGABRT": "; aborted by native code (a failed assertion?)",
}


def worker_env(slot: Slot, n_slots: int, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment a slot's worker starts with: its GPU, thread caps, then the user's ``extra``.

    Thread caps already set in this process's environment are inherited, not overridden.
    """
    threads = str(max(1, cpu_count() // n_slots))
    env = {"CUDA_VISIBLE_DEVICES": slot.gpu or ""}
    env.update({name: threads for name in THREAD_LIMIT_VARIABLES if name not in os.environ})
    env.update(extra or {})
    return env


def describe_death(error: BaseException) -> str:
    """A one-line cause for a worker that died, from loky's message (which holds the exit code)."""
    match = _EXIT_CODE.search(str(error))
    if match is None:
        return "worker died: its process ended unexpectedly (exit code unknown)"
    name, code = match.group(1), int(match.group(2))
    if code < 0:
        return f"worker died: {name} (exit code {code}){_SIGNAL_HINTS.get(name, '')}"
    return f"worker died: its process exited during the trial (exit code {code}); os._exit() or a fatal native error?"


@dataclasses.dataclass
class _Run:
    """One submitted trial; ``reported`` makes sure its outcome reaches the sink once."""

    trial_number: int
    reported: bool = False


@dataclasses.dataclass
class _SlotWorker:
    executor: ProcessPoolExecutor
    run: _Run | None = None


class LocalPool(Pool):
    """Runs trials concurrently in worker processes of this machine.

    Args:
        concurrency: how many trials at once (default 1, or ``len(gpus) * trials_per_gpu``).
        gpus: GPU ids (indices, UUIDs or MIG ids: ``slots.GPU_ID_RULE``); each worker sees one of
            them as ``CUDA_VISIBLE_DEVICES``. Without it workers see ``CUDA_VISIBLE_DEVICES=""``
            (set it in ``env`` to change that).
        trials_per_gpu: how many trials share one GPU at a time.
        env: extra environment variables for every worker (they win over the pool's own).
    """

    def __init__(self, concurrency: int | None = None, *, gpus: Sequence[int | str] | None = None,
                 trials_per_gpu: int = 1, env: Mapping[str, Any] | None = None):
        self.slots = plan_slots(concurrency, gpus, trials_per_gpu)
        extra = {str(name): str(value) for name, value in (env or {}).items()}
        self._env = [worker_env(slot, len(self.slots), extra) for slot in self.slots]
        self._lock = threading.Lock()
        self._workers: list[_SlotWorker] = []
        self._closed = True
        self._sink: EventSink | None = None
        self._server: ReportServer | None = None
        self._study: worker.StudyHandle | None = None
        self._folder: str | None = None

    # --- Pool ------------------------------------------------------------------------------------
    def start(self, fn: Callable[[dict], Any], sink: EventSink) -> None:
        """Ship ``fn`` and start every worker; returns once all of them have loaded it.

        Raises ``ConfigurationError`` when ``fn`` cannot be pickled or cannot be loaded in a worker.
        """
        payload = pickle_function(fn)
        self._sink, self._closed = sink, False
        try:
            self._server = ReportServer(sink.on_report)
            self._folder = scratch.make_run_folder()
            function_path = os.path.join(self._folder, "function.pkl")
            with open(function_path, "wb") as file:
                file.write(payload)
            self._study = worker.StudyHandle(uuid.uuid4().hex, function_path, self._server.endpoint)
            self._workers = [_SlotWorker(self._new_executor(slot)) for slot in self.slots]
            self._warm_up_all(fn)
        except BaseException:
            self.shutdown()
            raise

    def submit(self, slot: Slot, job: TrialJob) -> None:
        run = _Run(job.trial_number)
        with self._lock:
            assert not self._closed, "start() the pool first"
            slot_worker = self._workers[slot.index]
            slot_worker.run = run
            executor = slot_worker.executor
        work = worker.WorkerJob(self._study, job.trial_number, dict(job.params), job.study_name, job.budget,
                                job.checkpoint_dir)
        try:
            future = executor.submit(worker.run_trial, work)
        except BrokenProcessPool:  # the worker died while idle: start a new one for this job
            future = self._replace(slot, warm=False).submit(worker.run_trial, work)
        future.add_done_callback(functools.partial(self._on_done, slot, run))

    def cancel(self, slot: Slot, reason: str) -> None:
        """Kill the slot's worker now, start its replacement, and report the trial "died"."""
        with self._lock:
            slot_worker = self._workers[slot.index] if not self._closed else None
            run = slot_worker.run if slot_worker else None
            if run is None:  # nothing runs there (its outcome is already on its way)
                return
            slot_worker.run = None
            unreported, run.reported = not run.reported, True
            executor = slot_worker.executor
        executor.shutdown(wait=True, kill_workers=True)
        self._replace(slot)
        if unreported:
            self._sink.on_outcome(Outcome(run.trial_number, OutcomeKind.DIED, reason=f"worker terminated: {reason}"))

    def shutdown(self) -> None:
        """Kill every worker, close the report channel and remove the run's folder (the pickled function)."""
        with self._lock:
            self._closed = True
            executors = [slot_worker.executor for slot_worker in self._workers]
            self._workers = []
        for executor in executors:
            executor.shutdown(wait=True, kill_workers=True)
        if self._server is not None:
            self._server.close()
            self._server = None
        self._study = None
        if self._folder is not None:
            scratch.remove_run_folder(self._folder)
            self._folder = None

    # --- internals -------------------------------------------------------------------------------
    def _new_executor(self, slot: Slot) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(max_workers=1, env=self._env[slot.index], initializer=worker.initialize_worker)

    def _warm_up_all(self, fn: Callable) -> None:
        futures = [slot_worker.executor.submit(worker.warm_up, self._study) for slot_worker in self._workers]
        for slot, future in zip(self.slots, futures):
            try:
                future.result()
            except Exception as exc:
                raise unloadable(fn, f"in a worker process (slot {slot.index})", exc,
                                 "Make what it uses importable in a fresh Python process, "
                                 "or run it with executor='inline'.") from None

    def _replace(self, slot: Slot, *, warm: bool = True) -> ProcessPoolExecutor | None:
        """Give the slot a new executor (the old one is dead or killed); with ``warm``, start its
        worker now so the slot's next trial does not wait for a process to start."""
        with self._lock:
            if self._closed:
                return None
            executor = self._workers[slot.index].executor = self._new_executor(slot)
            study = self._study
        if warm:
            try:
                executor.submit(worker.warm_up, study)
            except RuntimeError:  # shut down meanwhile by shutdown(): nothing to warm
                pass
        return executor

    def _on_done(self, slot: Slot, run: _Run, future: Future) -> None:
        """Runs in loky's manager thread (or the submitting thread) when a job's future settles."""
        with self._lock:
            if run.reported or self._closed:  # canceled, or the pool is closing
                return
            run.reported = True
            slot_worker = self._workers[slot.index]
            if slot_worker.run is run:
                slot_worker.run = None
        outcome, broken = _outcome_of(run.trial_number, future)
        if broken:
            self._replace(slot)
        self._sink.on_outcome(outcome)


def _outcome_of(trial_number: int, future: Future) -> tuple[Outcome, bool]:
    """The job's outcome, and whether its executor is broken (and must be rebuilt)."""
    try:
        return future.result(), False
    except TerminatedWorkerError as exc:
        return Outcome(trial_number, OutcomeKind.DIED, reason=describe_death(exc)), True
    except BrokenProcessPool as exc:  # e.g. a result that could not be unpickled here
        return error_outcome(trial_number, exc, "the worker pool broke"), True
    except BaseException as exc:  # the worker catches the trial's own errors: this is the way back
        return error_outcome(trial_number, exc, UNSENDABLE), False
