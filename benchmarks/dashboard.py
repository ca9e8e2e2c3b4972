"""What the live dashboard costs the kernel: front-end messages and CPU time per 1,000 trials.

A synthetic study (the read side a Dashboard uses, ``StudyView``: config, space, trials, state,
subscribe) publishes trial events at a fixed rate, as a fast study would: per trial "started", 3
intermediate reports and "finished" (1 in 10 failed, 1 in 10 early-stopped). The widgets' comms
record what they would send instead of sending it. For each size the feed runs twice, without and
with a dashboard, and the script prints: events, refreshes, update messages (total and per second)
and their size, the process CPU time (``time.process_time``, all threads) the dashboard adds per
1,000 trials, and the cost of one refresh at the final size (what bounds the kernel's load: at most
5 refreshes a second).

    python benchmarks/dashboard.py [--trials 1000 10000] [--rate 2500]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
import time

import comm
from comm.base_comm import BaseComm

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from autotune_nb.notebook.dashboard import Dashboard  # noqa: E402
from autotune_nb.space import SearchSpace  # noqa: E402
from autotune_nb.config import StudyConfig  # noqa: E402
from autotune_nb.study import TrialEvent  # noqa: E402
from autotune_nb.trial import Trial, TrialState  # noqa: E402
from autotune_nb.vocabulary import StudyState  # noqa: E402

SPACE = {
    "lr": {"_type": "loguniform", "_value": [1e-4, 0.1]},
    "units": {"_type": "quniform", "_value": [16, 256, 16]},
    "act": {"_type": "choice", "_value": ["relu", "tanh", "gelu"]},
    "dropout": {"_type": "uniform", "_value": [0.0, 0.5]},
}
SENT: list[tuple[dict, list]] = []


class RecordingComm(BaseComm):
    def publish_msg(self, msg_type, data=None, metadata=None, buffers=None, **keys):
        if msg_type == "comm_msg" and data and data.get("method") == "update":
            SENT.append((data, buffers or []))


class SyntheticStudy:
    """A study's read side, fed by ``play`` instead of a tuning loop."""

    def __init__(self) -> None:
        self.space = SearchSpace(SPACE)
        self.config = StudyConfig(name="bench", space=self.space.to_nni(), tuner="Random", direction="minimize")
        self.state = StudyState.RUNNING
        self._trials: dict[int, Trial] = {}
        self._subscribers: list = []
        self._lock = threading.Lock()

    @property
    def trials(self) -> list[Trial]:
        with self._lock:
            return list(self._trials.values())

    def subscribe(self, callback):
        self._subscribers.append(callback)
        return lambda: self._subscribers.remove(callback)

    def on_run_end(self, callback):
        return lambda: None  # the feed's end is drawn by the script's own finish()

    def _publish(self, kind: str, trial: Trial) -> None:
        with self._lock:
            self._trials[trial.number] = trial
        for callback in list(self._subscribers):
            callback(TrialEvent(kind, trial))

    def play(self, n_trials: int, rate: float) -> int:
        """Publish ``n_trials`` trials' events, ``rate`` trials a second; returns the events sent."""
        start = time.monotonic()
        events = 0
        for number in range(n_trials):
            params = {"lr": 10 ** -(1 + number % 3), "units": 16 * (1 + number % 16),
                      "act": ("relu", "tanh", "gelu")[number % 3], "dropout": (number % 50) / 100}
            trial = Trial(number=number, params=params, state=TrialState.RUNNING, started_at=time.time())
            self._publish("started", trial)
            for step in range(1, 4):
                trial = trial.replace(intermediates=trial.intermediates + ((step, 1.0 / step + number % 7),))
                self._publish("reported", trial)
            if number % 10 == 3:
                trial = trial.replace(state=TrialState.FAILED, error="Traceback ...\nValueError: bad",
                                      reason="ValueError: bad")
            elif number % 10 == 7:
                trial = trial.replace(state=TrialState.EARLY_STOPPED)
            else:
                trial = trial.replace(state=TrialState.SUCCEEDED, value=(number * 7919 % 1000) / 1000)
            self._publish("finished", trial.replace(finished_at=time.time()))
            events += 5
            ahead = start + (number + 1) / rate - time.monotonic()
            if ahead > 0.002:
                time.sleep(ahead)
        self.state = StudyState.FINISHED
        return events


def measure(n_trials: int, rate: float, with_dashboard: bool) -> dict:
    SENT.clear()
    study = SyntheticStudy()
    dashboard = Dashboard(study, total=n_trials).attach() if with_dashboard else None
    opened = len(SENT)
    cpu, wall = time.process_time(), time.monotonic()
    events = study.play(n_trials, rate)
    if dashboard is not None:
        dashboard.finish()
    cpu, wall = time.process_time() - cpu, time.monotonic() - wall
    result = {"events": events, "cpu": cpu, "wall": wall}
    if dashboard is not None:
        messages = SENT[opened:]
        started = time.perf_counter()
        dashboard.refresh()
        result.update(
            refreshes=dashboard.refresh_count,
            messages=len(messages),
            kib=sum(len(json.dumps(data)) + sum(memoryview(b).nbytes for b in buffers)
                    for data, buffers in messages) / 1024,
            refresh_ms=(time.perf_counter() - started) * 1000,
        )
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--rate", type=float, default=2500, help="trials finished per second")
    args = parser.parse_args()
    comm.create_comm = RecordingComm
    print(f"{'trials':>7} {'events':>7} {'wall s':>7} {'refreshes':>9} {'messages':>8} {'msg/s':>6} "
          f"{'KiB sent':>9} {'feed CPU s':>10} {'+dashboard CPU s':>16} {'per 1k trials s':>15} "
          f"{'refresh ms at end':>17}")
    for n in args.trials:
        bare = measure(n, args.rate, with_dashboard=False)
        shown = measure(n, args.rate, with_dashboard=True)
        extra = shown["cpu"] - bare["cpu"]
        print(f"{n:>7} {shown['events']:>7} {shown['wall']:>7.2f} {shown['refreshes']:>9} {shown['messages']:>8} "
              f"{shown['messages'] / shown['wall']:>6.1f} {shown['kib']:>9.0f} {bare['cpu']:>10.3f} "
              f"{extra:>16.3f} {extra / n * 1000:>15.3f} {shown['refresh_ms']:>17.1f}")


if __name__ == "__main__":
    main()
