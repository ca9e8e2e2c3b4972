"""Studies on a real Dask cluster started from the command line: ``dask scheduler`` and two ``dask worker``
processes (``--nthreads 1``), each its own process group (``testing.dask_cluster``).

The captured data of each study is an ``Unpickled`` object: every unpickling of it appends the pid of
the receiving process to a log file, so the log says how often each worker received it.
"""

from __future__ import annotations

import collections
import glob
import json
import os
import re
import sys
import threading
import time

import pytest

distributed = pytest.importorskip("distributed")
cloudpickle = pytest.importorskip("cloudpickle")

import autotune_nb as at  # noqa: E402
from autotune_nb import ConfigurationError, TrialState  # noqa: E402
from autotune_nb.execution import dask_pool  # noqa: E402
from autotune_nb.execution.dask_pool import DaskPool, cluster_client  # noqa: E402
from autotune_nb.testing.dask_cluster import CommandLineCluster, environment_with_package  # noqa: E402
from autotune_nb.testing.scripted import max_overlap  # noqa: E402
from autotune_nb.testing.waiting import wait_for  # noqa: E402
from tests.notebook.conftest import NotebookRun  # noqa: E402

pytestmark = pytest.mark.timeout(240)

SPACE = {"x": at.uniform(0, 1)}


class Unpickled:
    """Captured data; each unpickling appends the receiving process's pid to ``log``."""

    def __init__(self, log: str):
        self.log = log

    def __reduce__(self):
        return _unpickled, (self.log,)


def _unpickled(log: str) -> Unpickled:
    with open(log, "a") as file:
        file.write(f"{os.getpid()}\n")
    return Unpickled(log)


class MarkedTrial:
    """Writes a start marker (its pid and params) to ``markers``, sleeps, and returns its pid and times."""

    def __init__(self, data: Unpickled, markers: str, seconds: float):
        self.data, self.markers, self.seconds = data, markers, seconds

    def __call__(self, params):
        started = time.time()
        with open(os.path.join(self.markers, f"{time.time_ns()}-{os.getpid()}.json"), "w") as file:
            json.dump({"pid": os.getpid(), "params": params}, file)
        time.sleep(self.seconds)
        return {"default": params["x"], "pid": os.getpid(), "t0": started, "t1": time.time()}


@pytest.fixture(autouse=True)
def trials_travel_by_value():
    """The workers cannot import this test module: its functions and classes go by value, as a notebook's do."""
    module = sys.modules[__name__]
    cloudpickle.register_pickle_by_value(module)
    yield
    cloudpickle.unregister_pickle_by_value(module)


@pytest.fixture
def notebook(tmp_path, monkeypatch):
    """A notebook run on a real kernel (``tests/notebook/conftest.py``) that imports this checkout."""
    monkeypatch.setenv("PYTHONPATH", environment_with_package()["PYTHONPATH"])
    return NotebookRun(tmp_path)


def unpickled_by(log) -> collections.Counter:
    return collections.Counter(int(line) for line in open(log).read().split())


def test_a_cell_runs_on_the_cluster_by_address_and_by_client_with_its_data_shipped_once_per_worker(notebook):
    logs = [notebook.folder / "by_address.log", notebook.folder / "by_client.log"]
    body = ("x = at.uniform(0, 1)\nimport time\ntime.sleep(0.2)\n"
            "{'default': x, 'pid': os.getpid(), 'total': float(big.sum())}\n")
    with CommandLineCluster(n_workers=2, nthreads=1) as cluster:
        notebook.cell("%load_ext autotune_nb")
        notebook.cell(
            "import os\nimport numpy as np\n"
            "class Unpickled:\n"
            "    def __init__(self, log):\n        self.log = log\n"
            "    def __reduce__(self):\n        return unpickled, (self.log,)\n"
            "def unpickled(log):\n"
            "    with open(log, 'a') as file:\n        file.write(f'{os.getpid()}\\n')\n"
            "    return Unpickled(log)\n"
            f"data = Unpickled({str(logs[0])!r})\n"
            "big = np.arange(200_000, dtype=float)  # 1.6 MB: a memory-mapped file on this machine\n"
        )
        by_address = notebook.cell(f"%%autotune --cluster {cluster.address} --trials 8 --tuner Random --seed 0 "
                                   f"--name by_address\ndata\n{body}")
        notebook.cell(f"from distributed import Client\nclient = Client({cluster.address!r})\n"
                      f"data = Unpickled({str(logs[1])!r})")
        by_client = notebook.cell(f"%%autotune --cluster client --trials 4 --tuner Random --seed 1 --name by_client\n"
                                  f"data\n{body}")
        still_open = notebook.cell("print(client.status)")
        refusals = [notebook.cell(f"%%autotune {options} --trials 1\nx = at.uniform(0, 1)\nx")
                    for options in ("--cluster clinet", "--cluster client --gpus 0,1",
                                    "--cluster tcp://127.0.0.1:1 --gpus all")]
        notebook.cell("client.close()")
        notebook.execute(allow_errors=True)
        worker_pids = {pid for log in logs for pid in unpickled_by(log) if cluster.worker_index(pid) is not None}

    for name, cell, log, count in (("by_address", by_address, logs[0], 8), ("by_client", by_client, logs[1], 4)):
        assert f"study {name!r}: {count} trials ({count} succeeded)" in notebook.text(cell)
        trials = at.Study.load(name).trials
        pids = collections.Counter(t.metrics["pid"] for t in trials)
        assert set(pids) <= worker_pids and all(t.metrics["total"] == 199_999 * 200_000 / 2 for t in trials)
        assert unpickled_by(log) == collections.Counter(set(pids))  # once per worker that ran trials
        assert sum(pids.values()) > len(pids)  # ... and not once per trial
    assert len(worker_pids) == 2
    assert notebook.text(still_open).strip() == "running"  # the user's client is left open
    texts = [notebook.text(cell) for cell in refusals]
    assert "--cluster clinet: the notebook has no variable 'clinet'" in texts[0]
    assert "--gpus 0,1 with --cluster: Dask places the trials" in texts[1]
    assert "no Dask scheduler answered at 'tcp://127.0.0.1:1'" in texts[2]


def test_a_study_goes_on_when_a_worker_is_lost_and_keeps_every_finished_trial(tmp_path):
    log, markers = tmp_path / "unpickled.log", tmp_path / "markers"
    markers.mkdir()
    trial = MarkedTrial(Unpickled(str(log)), str(markers), seconds=1.5)
    study = at.Study(SPACE, tuner="Random", seed=0, storage=None)

    def starts():
        found = [json.load(open(path)) for path in sorted(glob.glob(str(markers / "*.json")))]
        return [(cluster.worker_index(m["pid"]), m["pid"], m["params"]) for m in found]

    with CommandLineCluster(n_workers=2, nthreads=1) as cluster:
        runner = threading.Thread(target=study.run, args=(trial,),
                                  kwargs=dict(max_trials=8, executor=DaskPool(cluster.address), max_failures=8))
        runner.start()
        wait_for(lambda: [s[0] for s in starts()].count(1) >= 2, 60, "a second trial on worker 1")
        before = starts()
        cluster.kill_worker(1)  # mid-trial: its first trial has ended, its second runs
        runner.join(120)
        assert not runner.is_alive()

    killed = [(pid, params) for index, pid, params in before if index == 1]
    lost_params = killed[-1][1]
    by_params = {json.dumps(t.params, sort_keys=True): t for t in study.trials}
    lost = by_params[json.dumps(lost_params, sort_keys=True)]
    assert len(study.trials) == 8
    assert lost.state == TrialState.FAILED and "lost" in lost.reason
    others = [t for t in study.trials if t is not lost]
    assert all(t.state == TrialState.SUCCEEDED for t in others)
    finished_on_killed = [by_params[json.dumps(p, sort_keys=True)] for _, p in killed[:-1]]
    assert finished_on_killed and all(t.metrics["pid"] == killed[0][0] for t in finished_on_killed)
    survivor = {t.metrics["pid"] for t in others} - {killed[0][0]}
    assert len(survivor) == 1
    # The function and its data went to each worker once (the plugin), the killed one included.
    assert unpickled_by(log) == collections.Counter({killed[0][0]: 1, survivor.pop(): 1})


def test_gpu_resources_hold_each_worker_to_trials_per_gpu_trials_at_once(tmp_path):
    log, markers = tmp_path / "unpickled.log", tmp_path / "markers"
    markers.mkdir()
    trial = MarkedTrial(Unpickled(str(log)), str(markers), seconds=0.4)
    with CommandLineCluster(n_workers=2, nthreads=3, resources={"GPU": 1}) as cluster:
        with distributed.Client(cluster.address, set_as_default=False) as client:
            runs = {}
            for per_gpu in (1, 2):
                slots = len(DaskPool(client, gpus="all", trials_per_gpu=per_gpu).slots)
                # More slots than the GPUs hold: Dask, not the pool, must keep the extra trials waiting.
                pool = DaskPool(client, gpus="all", trials_per_gpu=per_gpu, concurrency=6)
                study = at.Study(SPACE, tuner="Random", seed=per_gpu, storage=None)
                runs[per_gpu] = (slots, study.run(trial, max_trials=8, executor=pool))
        with CommandLineCluster(n_workers=1, nthreads=2) as without_gpus:
            with pytest.raises(ConfigurationError, match=r"gpus='all': no worker of the Dask cluster at .* declares a "
                                                         r"GPU resource.*--resources \"GPU=1\""):
                DaskPool(without_gpus.address, gpus="all")

    for per_gpu, (slots, study) in runs.items():
        assert slots == 2 * per_gpu  # per worker: its GPU unit x trials_per_gpu, at most its 3 threads
        assert all(t.state == TrialState.SUCCEEDED for t in study.trials)
        by_worker = collections.defaultdict(list)
        for t in study.trials:
            by_worker[t.metrics["pid"]].append((t.metrics["t0"], t.metrics["t1"]))
        assert max(max_overlap(intervals) for intervals in by_worker.values()) == per_gpu


@pytest.mark.parametrize("target, named", [
    ("scheduler", "cluster 'scheduler' is not a Dask scheduler address (no port)"),
    (8786, "cluster 8786 (a int) is not a Dask cluster"),
    ("tcp://127.0.0.1:1", "no Dask scheduler answered at 'tcp://127.0.0.1:1' within 1 s"),
])
def test_what_is_not_a_cluster_is_refused_naming_it(monkeypatch, target, named):
    monkeypatch.setattr(dask_pool, "CONNECT_TIMEOUT_S", 1)
    with pytest.raises(ConfigurationError, match=re.escape(named)):
        cluster_client(target)


@pytest.mark.parametrize("options, named", [
    (dict(gpus=[0, 1]), "DaskPool(gpus=[0, 1]): Dask decides where trials run, not the pool, so it takes no GPU ids"),
    (dict(trials_per_gpu=2), "trials_per_gpu=2 needs gpus='all' on a Dask cluster"),
])
def test_gpu_settings_a_cluster_cannot_honour_are_refused_before_connecting(options, named):
    with pytest.raises(ConfigurationError, match=re.escape(named)):
        DaskPool("tcp://127.0.0.1:1", **options)
