"""A real Dask cluster for tests and benchmarks: ``dask scheduler`` and ``dask worker`` started from the
command line as separate processes, as a person starts them on their machines.

Each process runs in its own session, so a worker (its nanny and the worker process under it) can be
killed as one group, as a lost machine would be. Their logs go to files in ``log_dir``; a cluster that
does not come up names them. ``close`` ends every process it started.

Example:
    >>> with CommandLineCluster(n_workers=2, nthreads=1) as cluster:  # doctest: +SKIP
    ...     study.run(train, executor=DaskPool(cluster.address))
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time

#: Seconds the scheduler and the workers get to come up.
START_TIMEOUT_S = 90


class CommandLineCluster:
    """``dask scheduler`` on a free port of 127.0.0.1 and ``n_workers`` ``dask worker`` processes.

    Args:
        n_workers: worker processes, each with its own nanny.
        nthreads: threads per worker (trials one worker runs at once).
        resources: each worker's ``--resources``, e.g. ``{"GPU": 1}``.
        log_dir: where the logs go (default: a new temporary folder).
    """

    def __init__(self, n_workers: int = 2, *, nthreads: int = 1, resources: dict[str, float] | None = None,
                 log_dir: str | None = None):
        self.n_workers, self.nthreads, self.resources = n_workers, nthreads, dict(resources or {})
        self.log_dir = log_dir or tempfile.mkdtemp(prefix="autotune-dask-")
        self.scheduler: subprocess.Popen | None = None
        self.workers: list[subprocess.Popen] = []
        self.address: str | None = None

    def __enter__(self) -> "CommandLineCluster":
        try:
            self.start()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def start(self) -> None:
        """Start the scheduler, then the workers; return once every worker has joined."""
        scheduler_file = os.path.join(self.log_dir, "scheduler.json")
        self.scheduler = self._spawn("scheduler", ["scheduler", "--host", "127.0.0.1", "--port", "0",
                                                   "--no-dashboard", "--scheduler-file", scheduler_file])
        self.address = self._wait(lambda: _read_address(scheduler_file), "the scheduler to write its address")
        worker_args = ["worker", self.address, "--host", "127.0.0.1", "--nthreads", str(self.nthreads),
                       "--no-dashboard", "--death-timeout", "60"]
        if self.resources:
            worker_args += ["--resources", " ".join(f"{name}={amount}" for name, amount in self.resources.items())]
        self.workers = [self._spawn(f"worker-{index}", worker_args) for index in range(self.n_workers)]
        from distributed import Client

        with Client(self.address, set_as_default=False, timeout=START_TIMEOUT_S) as client:
            try:
                client.wait_for_workers(self.n_workers, timeout=START_TIMEOUT_S)
            except TimeoutError:
                raise RuntimeError(f"the Dask workers did not join in {START_TIMEOUT_S} s; logs in {self.log_dir}") from None

    def worker_index(self, pid: int) -> int | None:
        """Which worker a process belongs to (the worker process runs under its nanny, in its group)."""
        try:
            group = os.getpgid(pid)
        except ProcessLookupError:
            return None
        return next((index for index, worker in enumerate(self.workers) if worker.pid == group), None)

    def kill_worker(self, index: int) -> None:
        """SIGKILL the worker's nanny and worker process at once: the machine is lost, nothing restarts it."""
        _kill_group(self.workers[index], signal.SIGKILL)
        self.workers[index].wait()

    def close(self) -> None:
        """End every process started here: SIGTERM, then SIGKILL whatever is left after 10 s."""
        processes = [p for p in [*self.workers, self.scheduler] if p is not None]
        for process in processes:
            _kill_group(process, signal.SIGTERM)
        deadline = time.monotonic() + 10
        for process in processes:
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                pass
            _kill_group(process, signal.SIGKILL)  # the group too: a nanny's worker may outlive it
            process.wait()

    # --- internals -------------------------------------------------------------------------------
    def _spawn(self, name: str, args: list[str]) -> subprocess.Popen:
        with open(os.path.join(self.log_dir, f"{name}.log"), "wb") as log:
            return subprocess.Popen(_dask_command() + args, stdout=log, stderr=subprocess.STDOUT,
                                    stdin=subprocess.DEVNULL, start_new_session=True, env=environment_with_package())

    def _wait(self, value, what: str):
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            found = value()
            if found is not None:
                return found
            if self.scheduler.poll() is not None:
                break
            time.sleep(0.1)
        raise RuntimeError(f"timed out waiting for {what}; logs in {self.log_dir}")


def _dask_command() -> list[str]:
    """``dask`` of this interpreter's environment (its ``bin`` folder), else the one on PATH."""
    beside = os.path.join(os.path.dirname(sys.executable), "dask")
    return [beside] if os.access(beside, os.X_OK) else ["dask"]


def environment_with_package() -> dict[str, str]:
    """This process's environment, with the folder that holds this ``autotune_nb`` first on PYTHONPATH:
    the workers import the same copy of the package (a checkout that is not installed included)."""
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    environ = dict(os.environ)
    environ["PYTHONPATH"] = os.pathsep.join(filter(None, [root, environ.get("PYTHONPATH")]))
    return environ


def _read_address(path: str) -> str | None:
    try:
        with open(path, encoding="utf-8") as file:
            return json.load(file)["address"]
    except (OSError, ValueError, KeyError):
        return None


def _kill_group(process: subprocess.Popen, sig: int) -> None:
    try:
        os.killpg(process.pid, sig)
    except (ProcessLookupError, PermissionError):
        pass
