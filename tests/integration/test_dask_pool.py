"""Studies on a real Dask cluster (a LocalCluster of two one-thread worker processes).

As in test_execution.py, a scripted tuner hands out configurations in order and each one's
``action`` says what its trial does. The trial function is an instance whose unpickling counts
itself in the worker process, so a trial can tell how often its worker received the function.
"""

from __future__ import annotations

import os
import re
import sys
import threading
import time
import types

import pytest

distributed = pytest.importorskip("distributed")

import autotune_nb as at
from autotune_nb import ConfigurationError, TrialState
from autotune_nb.execution.dask_pool import DaskPool
from autotune_nb.testing.scripted import (  # also registers the "Scripted" tuner
    max_overlap,
    sleeps,
)

pytestmark = pytest.mark.timeout(60)

ACTIONS = ["sleep", "raise", "exit", "unpicklable", "report_high", "report_low", "report_forever"]
SPACE = {"action": at.choice(ACTIONS), "t": at.uniform(0, 60)}

#: How many times this process unpickled a ``CountedTrial`` (in a worker: received the trial function).
UNPICKLED = 0
#: How many trials run in this process now (a worker's count is read through ``client.run``).
RUNNING = 0


def _unpickled_counted_trial():
    global UNPICKLED
    UNPICKLED += 1
    return CountedTrial()


class CountedTrial:
    """The trial function; each unpickling of it counts in ``UNPICKLED`` of the receiving process."""

    def __reduce__(self):
        return _unpickled_counted_trial, ()

    def __call__(self, params):
        global RUNNING
        RUNNING += 1
        try:
            return self._run(params["action"], params["t"])
        finally:
            RUNNING -= 1

    def _run(self, action, seconds):
        started = time.time()
        if action == "sleep":
            time.sleep(seconds)
        elif action == "raise":
            raise ValueError("boom in a dask trial")
        elif action == "exit":
            at.report(os.getpid())
            time.sleep(seconds)
            os._exit(3)
        elif action == "unpicklable":
            return {"default": 0.0, "lock": threading.Lock()}
        elif action.startswith("report"):
            value, steps = {"report_high": (1.0, 3), "report_low": (0.0, 50), "report_forever": (0.0, 1200)}[action]
            for _ in range(steps):
                at.report(value)
                time.sleep(0.05)
        return {"default": seconds, "pid": os.getpid(), "unpickled": UNPICKLED, "t0": started, "t1": time.time()}


@pytest.fixture(scope="module")
def cluster():
    # dashboard_address=None still takes port 8787 for the scheduler's HTTP routes: a random port instead
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                                  dashboard_address="127.0.0.1:0") as local_cluster:
        yield local_cluster


@pytest.fixture
def client(cluster):
    with distributed.Client(cluster, set_as_default=False) as dask_client:
        dask_client.wait_for_workers(2, timeout=30)  # a worker killed by an earlier test is back
        yield dask_client


def trials_running_on(client):
    return sum(client.run(lambda: sys.modules[__name__].RUNNING).values())


def run_scripted(configs, executor, *, subscriber=None, trial_timeout=None, **options):
    study = at.Study(SPACE, tuner="Scripted", tuner_args={"configs": configs}, **options)
    if subscriber is not None:
        study.subscribe(lambda event: subscriber(study, event))
    return study.run(CountedTrial(), max_trials=len(configs), executor=executor,
                     max_failures=len(configs), trial_timeout=trial_timeout)


def wait_until(condition, seconds):
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def test_a_study_runs_on_the_cluster_workers_in_parallel_with_the_function_shipped_once(client):
    pool = DaskPool(client)
    study = run_scripted(sleeps(0.3, 8), pool)

    trials = study.trials
    assert len(pool.slots) == 2 and all(t.state == TrialState.SUCCEEDED for t in trials)
    intervals = [(t.metrics["t0"], t.metrics["t1"]) for t in trials]
    assert max_overlap(intervals) == 2
    assert max(end for _, end in intervals) - min(start for start, _ in intervals) < 0.8 * 8 * 0.3
    pids = {t.metrics["pid"] for t in trials}
    assert len(pids) == 2 and os.getpid() not in pids
    assert {t.metrics["unpickled"] for t in trials} == {1}  # each worker got the function once, for 8 trials
    assert client.status == "running"  # the user's client is left open


def test_reports_reach_the_study_and_the_assessor_stops_a_trial_on_the_cluster(client):
    configs = [{"action": "report_high", "t": 0.0}] * 2 + [{"action": "report_low", "t": 0.0}]
    study = run_scripted(configs, DaskPool(client), assessor="Medianstop", assessor_args={"start_step": 1})

    high, _, low = study.trials
    assert high.state == TrialState.SUCCEEDED and high.intermediates == ((1, 1.0), (2, 1.0), (3, 1.0))
    assert low.state == TrialState.EARLY_STOPPED and low.intermediates == ((1, 0.0),)


def test_a_raising_trial_fails_with_its_traceback_and_an_unpicklable_result_is_refused(client):
    configs = [{"action": "raise", "t": 0.0}, {"action": "unpicklable", "t": 0.0}] + sleeps(0.0, 1)
    raised, unpicklable, fine = run_scripted(configs, DaskPool(client)).trials

    assert raised.state == TrialState.FAILED and raised.reason == "ValueError: boom in a dask trial"
    assert "Traceback" in raised.error and "in __call__" in raised.error and "autotune_nb/execution" not in raised.error
    assert unpicklable.state == TrialState.FAILED and "could not be sent back" in unpicklable.reason
    assert fine.state == TrialState.SUCCEEDED


def test_stop_ends_the_study_at_once_and_its_reporting_trials_leave_the_cluster(client):
    stopped_at = []

    def stop_once_two_trials_report(study, event):
        if not stopped_at and sum(bool(t.intermediates) for t in study.trials) == 2:
            stopped_at.append(time.monotonic())
            study.stop()

    configs = sleeps(0.0, 1) + [{"action": "report_forever", "t": 0.0}] * 4
    study = run_scripted(configs, DaskPool(client), subscriber=stop_once_two_trials_report)
    returned_at = time.monotonic()

    first, *rest = study.trials
    assert first.state == TrialState.SUCCEEDED
    assert len(rest) == 2 and all(t.state == TrialState.CANCELED for t in rest)
    assert returned_at - stopped_at[0] < 1.0
    assert wait_until(lambda: trials_running_on(client) == 0, 5.0)  # they stopped at their next report


def test_a_timed_out_trial_is_told_to_stop_at_its_next_report_while_the_study_goes_on(client):
    running_when_the_last_ended = []

    def count_at_the_end_of_the_last_trial(study, event):
        if event.kind == "finished" and event.trial.number == 3:
            running_when_the_last_ended.append(trials_running_on(client))

    # On the other worker thread, trials run one after the other past the first one's timeout (at 1.5 s).
    configs = [{"action": "report_forever", "t": 0.0}] + [{"action": "sleep", "t": t} for t in (0.3, 0.6, 1.2)]
    hung, *slept = run_scripted(configs, DaskPool(client), trial_timeout=1.5,
                                subscriber=count_at_the_end_of_the_last_trial).trials

    assert hung.state == TrialState.TIMEOUT and "trial_timeout=1.5s" in hung.reason
    assert all(t.state == TrialState.SUCCEEDED for t in slept) and slept[-1].metrics["t1"] > hung.finished_at
    assert running_when_the_last_ended == [0]  # the timed-out trial left its worker thread meanwhile


def test_a_killed_worker_fails_only_its_trial_and_the_study_goes_on(client):
    configs = [{"action": "exit", "t": 0.2}] + sleeps(0.3, 4)
    exited, *others = run_scripted(configs, DaskPool(client)).trials

    assert exited.state == TrialState.FAILED and exited.reason.startswith("worker died")
    assert len(exited.intermediates) == 1  # it ran once: Dask's second start of its task was refused
    assert all(t.state == TrialState.SUCCEEDED for t in others)


def test_more_slots_than_cluster_threads_queue_on_the_cluster_and_an_own_client_is_closed(cluster, client):
    # ``client`` waits for both workers: the one an earlier test killed may still be restarting.
    pool = DaskPool(cluster.scheduler_address, concurrency=3)
    studies = [run_scripted(sleeps(0.3, 3), pool) for _ in range(2)]  # one pool serves two studies

    for study in studies:
        trials = study.trials
        assert all(t.state == TrialState.SUCCEEDED for t in trials) and {t.slot for t in trials} == {0, 1, 2}
        assert max_overlap([(t.metrics["t0"], t.metrics["t1"]) for t in trials]) == 2
    assert pool.client.status == "closed"


@pytest.mark.parametrize("make_pool, named", [
    (lambda client: DaskPool(client, gpus=[0, 1]), "DaskPool(gpus=[0, 1]): Dask decides where trials run"),
    (lambda client: DaskPool(client, concurrency=0), "concurrency must be an integer >= 1, got 0"),
])
def test_invalid_settings_are_refused_by_name(client, make_pool, named):
    with pytest.raises(ConfigurationError, match=re.escape(named)):
        make_pool(client)


def test_a_function_missing_on_the_workers_is_refused_before_any_trial(client, monkeypatch):
    only_here = types.ModuleType("module_only_in_the_study_process")
    exec("def trial(params):\n    return 1.0\n", only_here.__dict__)
    monkeypatch.setitem(sys.modules, only_here.__name__, only_here)  # pickled by reference, not found there
    study = at.Study(SPACE, tuner="Scripted", tuner_args={"configs": sleeps(0.0, 1)})
    with pytest.raises(ConfigurationError, match="cannot be loaded on the Dask workers.*module_only_in_the_study"):
        study.run(only_here.trial, max_trials=1, executor=DaskPool(client))
    assert study.trials == []
