"""The Dask pool: the same study, its trials run as tasks on a Dask cluster (``dask.distributed``).

The study process stays the only place where the tuner, the assessor and the store live; the
cluster only runs trials. The trial function is pickled once per study and installed on every
worker by a Dask worker plugin: the scheduler sends it to each worker once, workers that join or
restart later get it too, and a task carries only the study's handle, the trial number and its
parameters. Workers share no file system with the study, so a function that reads files of this
machine (a ``%%autotune`` cell's captured names) is shipped in its ``self_contained()`` form, which
carries those files' bytes: the captured data reaches each worker once per study, inside the plugin.
Workers open one connection per process to the study's report channel, so ``at.report``,
``TrialStopped``, a trial's exception and its traceback behave as on local workers.

``cluster_client`` is the one rule of what a cluster setting means (``DaskPool(...)``,
``%%autotune --cluster``): a ``distributed.Client``, or a scheduler address to connect to.

What differs from ``LocalPool``:

- Slots are not processes: by default there is one per worker thread of the cluster
  (``client.nthreads()``), and Dask decides where each trial runs.
- GPUs are Dask worker resources: each worker declares the GPUs it holds (``dask worker
  --resources "GPU=1"``, one worker per GPU as dask-cuda makes them), and with ``gpus="all"`` each
  trial asks for ``1 / trials_per_gpu`` of a GPU, so Dask runs at most ``trials_per_gpu`` trials on
  a GPU at once. A list of GPU ids is refused: the pool does not choose the device, Dask does.
- Dask cannot end a running task. ``cancel`` (``stop()``, ``trial_timeout``, ``max_duration``)
  reports the trial ended at once and cancels its task; a running trial is told to stop at its next
  ``at.report``. A trial that never reports runs to its end on the cluster, holding a worker thread.
- A worker process that dies or is lost (``os._exit``, a crash, the nanny's memory limit, a killed or
  unreachable machine) is restarted by its nanny or dropped, and Dask runs the tasks it held again
  elsewhere. A trial never runs twice here: the second start asks the study first and ends "died",
  with "lost" in its reason. (Dask's own limit, ``KilledWorker``, also ends "died".)

Example:
    >>> from distributed import Client, LocalCluster
    >>> import autotune_nb as at
    >>> client = Client(LocalCluster(n_workers=2, threads_per_worker=1))  # doctest: +SKIP
    >>> study = at.Study({"x": at.uniform(0, 1)}, tuner="Random", seed=0)
    >>> _ = study.run(lambda p: p["x"], max_trials=8, executor=DaskPool(client))  # doctest: +SKIP
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import math
import threading
import uuid
from typing import Any, Callable

import cloudpickle

try:
    from distributed import Client, Future, KilledWorker, WorkerPlugin
    from distributed.comm import get_address_host, parse_address
    from distributed.comm.addressing import parse_host_port
    from distributed.deploy import Cluster
    from distributed.utils import get_ip
except ImportError as exc:
    raise ImportError(f"DaskPool needs dask.distributed ({exc}): pip install 'autotune_nb[dask]'") from exc

from ..errors import ConfigurationError
from ..vocabulary import OutcomeKind
from .base import EventSink, Outcome, Pool, Slot, TrialJob
from .channel import ReportServer
from .shipping import UNSENDABLE, error_outcome, pickle_function, unloadable
from .slots import ALL_GPUS, check_count
from .worker import StudyHandle, WorkerJob, install, load, run_trial, uninstall

RERUN_REASON = ("worker died: the Dask worker running this trial was lost during it (os._exit(), a crash in "
                "native code, its nanny's memory limit, or a killed or unreachable worker?); the worker's log "
                "has the cause. Dask started the task again elsewhere; autotune does not run a trial twice")

#: The Dask worker resource that counts GPUs (``dask worker --resources "GPU=1"``).
GPU_RESOURCE = "GPU"
#: Seconds ``cluster_client`` waits for a scheduler to answer.
CONNECT_TIMEOUT_S = 10
#: What a cluster setting may be, in the words every refusal of one uses.
CLUSTER_RULE = ("a Dask scheduler address such as 'tcp://10.0.0.5:8786' (or '10.0.0.5:8786'), a "
                "distributed.Client, or a Dask cluster object (LocalCluster, dask-cuda's LocalCUDACluster)")

log = logging.getLogger(__name__)


def cluster_client(target: Any) -> Client:
    """The client a cluster setting stands for: a ``distributed.Client`` is itself; an address or a
    cluster object gets a new client, connected (the caller closes it). Refuses anything else, and an
    address where no scheduler answers within ``CONNECT_TIMEOUT_S``, naming the value."""
    if isinstance(target, Client):
        return target
    if isinstance(target, str):
        scheme, location = parse_address(target)
        try:
            if scheme in ("tcp", "tls"):
                parse_host_port(location)
        except ValueError:
            raise ConfigurationError(f"cluster {target!r} is not a Dask scheduler address (no port); a cluster is "
                                     f"{CLUSTER_RULE}") from None
    elif not isinstance(target, Cluster):
        raise ConfigurationError(f"cluster {target!r} (a {type(target).__name__}) is not a Dask cluster; a cluster "
                                 f"is {CLUSTER_RULE}")
    try:
        return Client(target, set_as_default=False, timeout=CONNECT_TIMEOUT_S)
    except (OSError, TimeoutError) as exc:
        raise ConfigurationError(
            f"no Dask scheduler answered at {target!r} within {CONNECT_TIMEOUT_S} s ({exc}); start one with "
            "`dask scheduler` and its workers with `dask worker <address>`, or check the address"
        ) from None


def self_contained(fn: Callable) -> Callable:
    """``fn`` in the form that runs where this machine's files are not: its ``self_contained()`` when it
    has one (a ``%%autotune`` cell's trial carries its captured files), else ``fn`` itself."""
    make = getattr(fn, "self_contained", None)
    return make() if callable(make) else fn


class DaskPool(Pool):
    """Runs trials as tasks on a Dask cluster.

    Args:
        client: a cluster as ``cluster_client`` takes it: a ``distributed.Client`` (used as given, never
            closed here), a scheduler address such as ``"tcp://10.0.0.5:8786"`` or a cluster object (the
            pool then opens its own client and closes it at ``shutdown``).
        concurrency: how many trials at once; default: the cluster's worker threads when the pool is
            made (with ``gpus="all"``: its GPU units times ``trials_per_gpu``, at most each worker's
            threads). More than the cluster has is allowed (for clusters that scale up): the extra
            trials wait in Dask's queue, and meanwhile they count as running (``trial_timeout`` included).
        report_host: the address of this machine that the workers connect to for ``at.report``; by
            default the one it uses to reach the scheduler (127.0.0.1 for a scheduler on this machine).
        gpus: ``"all"``: each trial runs on a worker that declares a ``GPU`` resource and holds
            ``1 / trials_per_gpu`` of it while it runs. Give each GPU its own worker (dask-cuda's
            ``LocalCUDACluster``/``dask cuda worker``, or ``CUDA_VISIBLE_DEVICES`` per ``dask worker``),
            started with ``--resources "GPU=1"`` and at least ``trials_per_gpu`` threads.
        trials_per_gpu: how many trials share one GPU at a time (with ``gpus="all"``).

    The trial function needs on every worker what it imports (and autotune_nb itself).
    """

    def __init__(self, client: Any, *, concurrency: int | None = None, report_host: str | None = None,
                 gpus: str | None = None, trials_per_gpu: int = 1):
        if gpus not in (None, ALL_GPUS):
            raise ConfigurationError(
                f"DaskPool(gpus={gpus!r}): Dask decides where trials run, not the pool, so it takes no GPU ids. "
                f"Start each Dask worker with one GPU (dask-cuda's LocalCUDACluster does, or give each `dask "
                f"worker` its own CUDA_VISIBLE_DEVICES) and --resources \"{GPU_RESOURCE}=1\", then pass gpus='all'"
            )
        check_count("trials_per_gpu", trials_per_gpu)
        if gpus is None and trials_per_gpu != 1:
            raise ConfigurationError(f"trials_per_gpu={trials_per_gpu} needs gpus='all' on a Dask cluster")
        if concurrency is not None:
            check_count("concurrency", concurrency)
        self._client_source = client
        self._client = cluster_client(client)
        # A trial holds 1/k of a GPU unit; a hair less, so k of them fit in one unit whatever the rounding.
        self._resources = None if gpus is None else {GPU_RESOURCE: (1 - 1e-9) / trials_per_gpu}
        if concurrency is None:
            try:
                concurrency = self._cluster_capacity(trials_per_gpu)
            except BaseException:
                if self._client is not client:
                    self._client.close()
                raise
        self.slots = [Slot(i) for i in range(concurrency)]
        self._report_host = report_host
        self._lock = threading.Lock()
        self._closed = True
        self._sink: EventSink | None = None
        self._server: ReportServer | None = None
        self._study: StudyHandle | None = None
        self._plugin_name: str | None = None
        self._by_slot: dict[int, _Run] = {}
        self._by_trial: dict[int, _Run] = {}

    @property
    def client(self) -> Client:
        return self._client

    # --- Pool ------------------------------------------------------------------------------------
    def start(self, fn: Callable[[dict], Any], sink: EventSink) -> None:
        """Install ``fn`` (``self_contained``) on every worker (once each) and open the report channel.

        Raises ``ConfigurationError`` when ``fn`` cannot be pickled, cannot be loaded on a worker,
        or when a worker cannot connect to the report channel.
        """
        payload = pickle_function(self_contained(fn))
        if self._client is not self._client_source and self._client.status in ("closing", "closed"):
            self._client = self._open_client()  # ours, closed by the last shutdown: a pool serves many studies
        self._sink, self._closed = sink, False
        try:
            self._server = ReportServer(self._on_report, host=self._report_address(), on_start=self._on_start)
            self._study = StudyHandle(uuid.uuid4().hex, None, self._server.endpoint)
            self._plugin_name = f"autotune-study-{self._study.key}"
            self._install(fn, payload)
        except BaseException:
            self.shutdown()
            raise

    def submit(self, slot: Slot, job: TrialJob) -> None:
        work = WorkerJob(self._study, job.trial_number, dict(job.params), job.study_name, job.budget,
                         job.checkpoint_dir)
        run = _Run(job.trial_number, slot.index)
        with self._lock:
            assert not self._closed, "start() the pool first"
            self._by_slot[slot.index] = self._by_trial[job.trial_number] = run
        run.future = self._client.submit(run_dask_trial, work, key=f"autotune-trial-{job.trial_number}-"
                                         f"{self._study.key}", pure=False, resources=self._resources)
        run.future.add_done_callback(functools.partial(self._on_done, run))

    def cancel(self, slot: Slot, reason: str) -> None:
        """Report the slot's trial "died" now and cancel its task. A running task cannot be ended from
        outside: its trial is told to stop at its next ``at.report``, or runs to its end if it never reports."""
        with self._lock:
            run = None if self._closed else self._by_slot.get(slot.index)
            if run is None or run.reported:
                return
            run.reported = True
            self._forget(run)
        run.future.cancel()
        self._sink.on_outcome(Outcome(run.trial_number, OutcomeKind.DIED, reason=f"task canceled: {reason}"))

    def shutdown(self) -> None:
        """Cancel the outstanding tasks, remove the function from the workers, close the channel
        (a trial still running stops at its next report), and close the client if the pool opened it."""
        with self._lock:
            self._closed = True
            futures = [run.future for run in self._by_trial.values() if run.future is not None]
            self._by_slot, self._by_trial = {}, {}
        plugin_name, self._plugin_name = self._plugin_name, None
        try:
            if futures:
                self._client.cancel(futures)
            if plugin_name is not None:
                self._client.unregister_worker_plugin(plugin_name)
        except Exception:  # the cluster is gone or unreachable: nothing of the study is left to clean there
            log.warning("could not clean up study tasks on the Dask cluster", exc_info=True)
        if self._server is not None:
            self._server.close()
            self._server = None
        self._study = None
        if self._client is not self._client_source:
            self._client.close()

    # --- internals -------------------------------------------------------------------------------
    def _open_client(self) -> Client:
        return cluster_client(self._client_source)

    def _cluster_capacity(self, trials_per_gpu: int) -> int:
        """The trials the cluster runs at once: its worker threads, or with GPUs, per worker the trials
        its GPU units hold, at most its threads. Refuses a cluster with none."""
        try:
            workers = self._client.scheduler_info(n_workers=-1)["workers"].values()
        except TypeError:  # distributed before 2025 lists every worker and takes no n_workers
            workers = self._client.scheduler_info()["workers"].values()
        address = self._client.scheduler.address
        if self._resources is None:
            capacity = sum(worker["nthreads"] for worker in workers)
            if capacity == 0:
                raise ConfigurationError(
                    f"the Dask cluster at {address} has no workers yet: wait for them "
                    "(client.wait_for_workers(n)) or pass DaskPool(..., concurrency=n)"
                )
            return capacity
        capacity = sum(min(worker["nthreads"], math.floor(worker.get("resources", {}).get(GPU_RESOURCE, 0)
                                                          * trials_per_gpu + 1e-6)) for worker in workers)
        if capacity == 0:
            raise ConfigurationError(
                f"gpus='all': no worker of the Dask cluster at {address} declares a {GPU_RESOURCE} resource. Start "
                f"one worker per GPU with it: CUDA_VISIBLE_DEVICES=0 dask worker {address} --nthreads "
                f"{trials_per_gpu} --resources \"{GPU_RESOURCE}=1\" (or dask-cuda: dask cuda worker {address} "
                f"--resources \"{GPU_RESOURCE}=1\"), or pass DaskPool(..., concurrency=n) for workers yet to come"
            )
        return capacity

    def _report_address(self) -> str:
        if self._report_host is not None:
            return self._report_host
        address = self._client.scheduler.address
        if parse_address(address)[0] == "inproc":  # the workers live in this process
            return "127.0.0.1"
        return get_ip(get_address_host(address))

    def _install(self, fn: Callable, payload: bytes) -> None:
        try:
            self._client.register_plugin(_InstallStudy(self._study, payload), name=self._plugin_name)
        except ConnectionError as exc:
            raise ConfigurationError(
                f"a Dask worker {exc}. Pass DaskPool(..., report_host=<this machine's address as the workers "
                f"reach it>), and let the workers connect to this machine on that port"
            ) from None
        except Exception as exc:
            raise unloadable(fn, "on the Dask workers", exc, "Install what it imports on every worker "
                             "(autotune_nb included), or define it in the notebook.") from None

    def _forget(self, run: _Run) -> None:
        """Called under the lock: the run no longer holds its slot, and its reports are answered "stop"."""
        self._by_trial.pop(run.trial_number, None)
        if self._by_slot.get(run.slot_index) is run:
            del self._by_slot[run.slot_index]

    def _on_report(self, trial_number: int, step: int, value: float) -> bool:
        with self._lock:
            active = trial_number in self._by_trial
        return self._sink.on_report(trial_number, step, value) if active else True

    def _on_start(self, trial_number: int) -> bool:
        """True (do not run) for a trial already started once, or no longer wanted."""
        with self._lock:
            run = self._by_trial.get(trial_number)
            if run is None or run.started:
                return True
            run.started = True
            return False

    def _on_done(self, run: _Run, future: Future) -> None:
        """Runs in Dask's callback thread once the task settled."""
        with self._lock:
            if run.reported or self._closed:
                return
            run.reported = True
            self._forget(run)
        self._sink.on_outcome(_outcome_of(run.trial_number, future))


@dataclasses.dataclass
class _Run:
    trial_number: int
    slot_index: int
    future: Future | None = None
    started: bool = False  # its task asked to start (a second ask means Dask runs it again)
    reported: bool = False  # its outcome went to the sink


class _InstallStudy(WorkerPlugin):
    """Puts the study's function and channel in every worker process, present and future."""

    def __init__(self, study: StudyHandle, payload: bytes):
        self.study, self.payload = study, payload

    def setup(self, worker: Any) -> None:
        install(self.study, self.payload)

    def teardown(self, worker: Any) -> None:
        uninstall(self.study.key)


def run_dask_trial(job: WorkerJob) -> Outcome:
    """The task of one trial on a worker: asks the study before starting (so a task Dask runs again
    after its worker died does not run the trial twice), then runs it as a local worker would."""
    number = job.trial_number
    try:
        if not load(job.study).channel.may_start(number):
            return Outcome(number, OutcomeKind.DIED, reason=RERUN_REASON)
    except Exception as exc:  # not installed here, or the study is gone
        return error_outcome(number, exc, "the trial could not start on its Dask worker")
    return _sendable(run_trial(job))


def _sendable(outcome: Outcome) -> Outcome:
    """The outcome, or an error outcome when its result cannot be pickled back to the study (Dask's
    own error for that names only the ``Outcome`` it could not serialize, not the trial's result)."""
    if outcome.kind != OutcomeKind.RESULT:
        return outcome
    try:
        cloudpickle.dumps(outcome.result)
    except Exception as exc:
        return error_outcome(outcome.trial_number, exc, UNSENDABLE)
    return outcome


def _outcome_of(trial_number: int, future: Future) -> Outcome:
    if future.cancelled():
        return Outcome(trial_number, OutcomeKind.DIED, reason="its Dask task was cancelled outside the study "
                                                              "(client.cancel, or a lost client or scheduler)")
    try:
        return future.result()
    except KilledWorker as exc:
        return Outcome(trial_number, OutcomeKind.DIED, reason=f"worker died: {exc}")
    except Exception as exc:
        return error_outcome(trial_number, exc, "Dask could not run the trial's task")
