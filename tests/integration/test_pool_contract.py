"""Every pool keeps the pool contract (``autotune_nb.testing.pool_contract``): the inline pool, the
local pool's worker processes, and a Dask pool on a real LocalCluster of two worker processes."""

from __future__ import annotations

import psutil
import pytest

from autotune_nb.execution.inline import InlinePool
from autotune_nb.execution.pool import LocalPool
from autotune_nb.testing.pool_contract import PoolContract, job

pytestmark = pytest.mark.timeout(120)


class TestInlinePool(PoolContract):
    runs_trials_in_this_process = True
    cancels_running_trials = False

    def make_pool(self):
        return InlinePool()


class TestLocalPool(PoolContract):
    def make_pool(self):
        return LocalPool(2)

    def test_cancel_and_shutdown_end_the_worker_processes(self, pool, sink):
        first, second = pool.slots
        pool.submit(first, job(0, "report_until_stopped"))
        pool.submit(second, job(1, "report_until_stopped"))
        canceled, running = (psutil.Process(int(sink.first_report(n)[2])) for n in (0, 1))

        pool.cancel(first, "timeout")
        assert not _alive(canceled) and _alive(running)
        pool.shutdown()
        assert not _alive(running)


def _alive(process: psutil.Process) -> bool:
    try:
        return process.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


@pytest.fixture(scope="module")
def dask_cluster():
    distributed = pytest.importorskip("distributed")
    # dashboard_address=None still takes port 8787 for the scheduler's HTTP routes: a random port instead
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                                  dashboard_address="127.0.0.1:0") as cluster:
        yield cluster


class TestDaskPool(PoolContract):
    @pytest.fixture(autouse=True)
    def _client(self, dask_cluster):
        from distributed import Client

        with Client(dask_cluster, set_as_default=False) as client:
            client.wait_for_workers(2, timeout=30)  # a worker killed by an earlier test is back
            self.client = client
            yield

    def make_pool(self):
        from autotune_nb.execution.dask_pool import DaskPool

        return DaskPool(self.client)
