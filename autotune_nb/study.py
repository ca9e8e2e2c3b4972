"""Study: one tuning experiment, its ask/tell loop, its trials and its best result.

The loop runs in one thread (the caller's, or a background thread in a notebook kernel). It asks the
tuner for a configuration whenever a slot of the pool is free, hands intermediate results to the
assessor, tells the tuner every finished trial, writes every state change to the store and publishes
it to subscribers (the dashboard).

Example:
    >>> import autotune_nb as at
    >>> study = at.Study({"x": at.uniform(-5, 5)}, tuner="Random", direction="minimize", seed=0,
    ...                  storage=None)
    >>> _ = study.run(lambda p: (p["x"] - 1) ** 2, max_trials=20, executor="inline")
    >>> study.best.value < 1
    True
"""

from __future__ import annotations

import dataclasses
import queue
import threading
import time
import uuid
from typing import Any, Callable, Mapping, Sequence

from .assessors import Assessor, Decision, create_assessor
from .errors import ConfigurationError
from .execution.base import Outcome, Pool, TrialJob
from .space import SearchSpace
from .trial import InvalidResultError, Trial, TrialState, parse_result
from .tuners import Tuner, create_tuner

DIRECTIONS = ("maximize", "minimize")


@dataclasses.dataclass(frozen=True)
class TrialEvent:
    """Published to subscribers on every trial state change. ``kind``: started | reported | finished."""

    kind: str
    trial: Trial


@dataclasses.dataclass(frozen=True)
class StudyConfig:
    """Everything needed to rebuild a study's tuner and assessor: what the store and exports keep."""

    name: str
    space: dict
    tuner: str = "TPE"
    tuner_args: dict = dataclasses.field(default_factory=dict)
    assessor: str | None = None
    assessor_args: dict = dataclasses.field(default_factory=dict)
    direction: str = "maximize"
    seed: int | None = None


class Study:
    """A named tuning experiment over a search space.

    Args:
        space: NNI search-space JSON (a dict, or a ``SearchSpace``) or Python declarations
            (``{"lr": at.loguniform(1e-4, 0.1)}``).
        tuner: a registered tuner name (NNI's: TPE, Random, Anneal, Evolution, GridSearch, Batch, GP).
        tuner_args: the tuner's classArgs (``optimize_mode`` comes from ``direction``).
        assessor: an assessor name (Medianstop, Curvefitting) or None.
        direction: "maximize" or "minimize" the trials' results.
        seed: makes the tuner's sequence reproducible.
        name: the study's name in the store; a fresh one is made when omitted.
    """

    def __init__(
        self,
        space: Mapping | SearchSpace,
        *,
        tuner: str = "TPE",
        tuner_args: Mapping[str, Any] | None = None,
        assessor: str | None = None,
        assessor_args: Mapping[str, Any] | None = None,
        direction: str = "maximize",
        seed: int | None = None,
        name: str | None = None,
    ):
        if direction not in DIRECTIONS:
            raise ConfigurationError(f"direction must be 'maximize' or 'minimize', got {direction!r}")
        self.space = space if isinstance(space, SearchSpace) else SearchSpace(space)
        self.config = StudyConfig(
            name=name or f"study-{uuid.uuid4().hex[:8]}",
            space=self.space.to_nni(),
            tuner=tuner,
            tuner_args=dict(tuner_args or {}),
            assessor=assessor,
            assessor_args=dict(assessor_args or {}),
            direction=direction,
            seed=seed,
        )
        self.tuner: Tuner = create_tuner(
            tuner, self.space, optimize_mode=direction, seed=seed, **self.config.tuner_args
        )
        # The space the tuner searches: the given one, or for Batch the one its configurations span.
        self.space = self.tuner.space
        self.assessor: Assessor | None = (
            create_assessor(assessor, optimize_mode=direction, **self.config.assessor_args)
            if assessor else None
        )
        self._trials: dict[int, Trial] = {}
        self._subscribers: list[Callable[[TrialEvent], None]] = []
        self._stop_requested = threading.Event()
        self._stop_trials: set[int] = set()
        self._events: queue.Queue = queue.Queue()
        self._lock = threading.Lock()
        #: Why the last run ended before max_trials, in words (None when it did not).
        self.stop_reason: str | None = None

    # --- read side -------------------------------------------------------------------------------
    @property
    def name(self) -> str:
        return self.config.name

    @property
    def direction(self) -> str:
        return self.config.direction

    @property
    def trials(self) -> list[Trial]:
        with self._lock:
            return [self._trials[n] for n in sorted(self._trials)]

    @property
    def best(self) -> Trial | None:
        """The best SUCCEEDED trial, or None before one has finished."""
        done = [t for t in self.trials if t.state == TrialState.SUCCEEDED and t.value is not None]
        if not done:
            return None
        pick = max if self.direction == "maximize" else min
        return pick(done, key=lambda t: t.value)

    @property
    def best_params(self) -> dict[str, Any] | None:
        best = self.best
        return dict(best.params) if best else None

    @property
    def best_value(self) -> float | None:
        best = self.best
        return best.value if best else None

    def counts(self) -> dict[str, int]:
        counts = {state.value: 0 for state in TrialState}
        for trial in self.trials:
            counts[trial.state.value] += 1
        return counts

    def subscribe(self, callback: Callable[[TrialEvent], None]) -> Callable[[], None]:
        """Call ``callback(event)`` on every trial change; returns a function that unsubscribes."""
        self._subscribers.append(callback)
        return lambda: self._subscribers.remove(callback)

    def stop(self) -> None:
        """Ask a running study to end: waiting trials are dropped, running ones CANCELED."""
        self.stop_reason = "stopped by request"
        self._stop_requested.set()
        self._events.put(None)  # wake the loop

    def __repr__(self) -> str:
        best = self.best
        shown = f", best={best.value:.6g}" if best else ""
        return f"<Study {self.name!r} {self.config.tuner} {len(self._trials)} trials{shown}>"

    # --- the loop --------------------------------------------------------------------------------
    def run(
        self,
        fn: Callable[[dict], Any],
        max_trials: int = 30,
        *,
        max_duration: float | None = None,
        trial_timeout: float | None = None,
        max_failures: int | None = None,
        executor: str | Pool = "local",
        concurrency: int | None = None,
        gpus: Sequence[int | str] | None = None,
        trials_per_gpu: int = 1,
    ) -> "Study":
        """Run trials of ``fn(params)`` until ``max_trials`` have finished, the tuner is exhausted,
        ``max_duration`` seconds have passed or ``stop()`` is called. Returns the study.

        A trial's result is a number, or a dict with a numeric ``default`` key plus extra metrics.
        A trial that raises ends FAILED with its traceback; the study goes on. When the first
        ``max_failures`` trials (default: all of the first 5, or every trial if fewer) all fail,
        the study stops: the code is probably broken, and the first traceback is in ``trials[0].error``.

        ``executor="local"`` (the default) runs ``concurrency`` trials at once in worker processes
        that are reused from trial to trial; a new configuration is asked for as soon as one ends.
        ``gpus=[0, 1]`` with ``trials_per_gpu=k`` makes ``len(gpus) * k`` slots: each worker sees
        one GPU as ``CUDA_VISIBLE_DEVICES`` for its whole life (CPU-only workers see ""), and each
        trial records its slot and GPU. A worker that dies (segfault, out of memory) fails its trial
        only. ``executor="inline"`` runs trials one at a time in this process (debugging, functions
        that cannot be pickled); a ``Pool`` instance (e.g. ``LocalPool(env=...)``) is used as given.
        """
        _check_limit("max_trials", max_trials, minimum=1, integer=True)
        for label, value in (("max_duration", max_duration), ("trial_timeout", trial_timeout)):
            if value is not None:
                _check_limit(label, value, minimum=0)
        failures_limit = max_failures if max_failures is not None else min(5, max_trials)
        pool = self._make_pool(executor, concurrency, gpus, trials_per_gpu)
        self._stop_requested.clear()
        self.stop_reason = None
        deadline = None if max_duration is None else time.monotonic() + max_duration
        running: dict[int, tuple[Any, float]] = {}  # trial number -> (slot, start time)
        free_slots = list(pool.slots)
        started = 0
        try:
            pool.start(fn, _Sink(self))
            while True:
                while free_slots and started < max_trials and not self._should_end(deadline, failures_limit):
                    configs = self.tuner.suggest(1)
                    if not configs:
                        break
                    slot = free_slots.pop(0)
                    trial = self._new_trial(configs[0], slot)
                    running[trial.number] = (slot, time.monotonic())
                    started += 1
                    pool.submit(slot, TrialJob(trial.number, trial.params))
                    if pool.runs_inline:
                        self._drain(running, free_slots, block=False)
                if not running:
                    break
                if self._should_end(deadline, failures_limit):
                    self._cancel_running(pool, running, "stopped" if self._stop_requested.is_set() else "timeout")
                    continue
                self._expire(pool, running, trial_timeout)
                self._drain(running, free_slots, block=True, timeout=self._wait_time(running, trial_timeout, deadline))
        except KeyboardInterrupt:
            self.stop_reason = "interrupted"
            self._stop_requested.set()
            self._cancel_running(pool, running, "interrupted")
        finally:
            pool.shutdown()
        return self

    @staticmethod
    def _make_pool(executor: str | Pool, concurrency: int | None, gpus: Sequence[int | str] | None,
                   trials_per_gpu: int) -> Pool:
        options = {"concurrency": concurrency, "gpus": gpus}
        if trials_per_gpu != 1:
            options["trials_per_gpu"] = trials_per_gpu
        given = ", ".join(f"{label}={value!r}" for label, value in options.items() if value is not None)
        if isinstance(executor, Pool):
            if given:
                raise ConfigurationError(
                    f"{given} cannot resize the pool passed as executor: give them to the pool itself, "
                    "e.g. LocalPool(concurrency=2)"
                )
            return executor
        if executor == "local":
            from .execution.pool import LocalPool
            return LocalPool(concurrency, gpus=gpus, trials_per_gpu=trials_per_gpu)
        if executor == "inline":
            if given and given != "concurrency=1":
                raise ConfigurationError(
                    f"executor='inline' runs one trial at a time in this process, got {given}: "
                    "use executor='local' for concurrent trials or GPU slots"
                )
            from .execution.inline import InlinePool
            return InlinePool()
        raise ConfigurationError(f"executor must be 'local', 'inline' or a Pool, got {executor!r}")

    def _should_end(self, deadline: float | None, failures_limit: int) -> bool:
        if self._stop_requested.is_set():
            return True
        if deadline is not None and time.monotonic() >= deadline:
            self.stop_reason = "the study reached max_duration"
            return True
        first = [self._trials[n] for n in range(min(failures_limit, len(self._trials)))]
        if failures_limit > 0 and len(first) == failures_limit and all(t.state == TrialState.FAILED for t in first):
            self.stop_reason = (f"the first {failures_limit} trials all failed (max_failures); the first one "
                                f"with: {first[0].reason}")
            self._stop_requested.set()
            return True
        return False

    @staticmethod
    def _wait_time(running: dict, trial_timeout: float | None, deadline: float | None) -> float:
        now = time.monotonic()
        waits = [1.0]
        if trial_timeout is not None:
            waits += [start + trial_timeout - now for _, start in running.values()]
        if deadline is not None:
            waits.append(deadline - now)
        return max(0.0, min(waits))

    def _expire(self, pool: Pool, running: dict, trial_timeout: float | None) -> None:
        if trial_timeout is None:
            return
        now = time.monotonic()
        for number, (slot, start) in list(running.items()):
            if now - start >= trial_timeout:
                self._finish(number, TrialState.TIMEOUT, reason=f"ran past trial_timeout={trial_timeout:g}s")
                pool.cancel(slot, "timeout")

    def _cancel_running(self, pool: Pool, running: dict, why: str) -> None:
        for number, (slot, _) in list(running.items()):
            if number in self._trials and not self._trials[number].state.is_finished:
                state = TrialState.TIMEOUT if why == "timeout" else TrialState.CANCELED
                reason = "the study reached max_duration" if why == "timeout" else f"study {why}"
                self._finish(number, state, reason=reason)
            pool.cancel(slot, why)
        running.clear()

    def _drain(self, running: dict, free_slots: list, *, block: bool, timeout: float = 0.0) -> None:
        """Handle the queued outcomes; with ``block``, wait up to ``timeout`` for the first one."""
        try:
            item = self._events.get(block=block, timeout=timeout if block else None)
        except queue.Empty:
            return
        while True:
            if isinstance(item, Outcome) and item.trial_number in running:
                slot, _ = running.pop(item.trial_number)
                free_slots.append(slot)
                self._record_outcome(item)
            try:
                item = self._events.get_nowait()
            except queue.Empty:
                return

    # --- state changes ---------------------------------------------------------------------------
    def _new_trial(self, params: dict, slot: Any) -> Trial:
        with self._lock:
            number = len(self._trials)
            trial = Trial(number=number, params=params, state=TrialState.RUNNING, started_at=time.time(),
                          slot=slot.index, gpu=slot.gpu)
            self._trials[number] = trial
        self._publish("started", trial)
        return trial

    def _record_outcome(self, outcome: Outcome) -> None:
        trial = self._trials[outcome.trial_number]
        if trial.state.is_finished:  # already ended (timeout, cancel): the late outcome changes nothing
            return
        if outcome.kind == "result":
            try:
                value, metrics = parse_result(outcome.result)
            except InvalidResultError as exc:
                self._finish(trial.number, TrialState.FAILED, reason=str(exc), error=str(exc))
            else:
                self._finish(trial.number, TrialState.SUCCEEDED, value=value, metrics=metrics)
        elif outcome.kind == "stopped":
            self._finish(trial.number, TrialState.EARLY_STOPPED, reason="stopped early by the assessor")
        else:
            self._finish(trial.number, TrialState.FAILED, error=outcome.error, reason=outcome.reason)

    def _finish(self, number: int, state: TrialState, **changes: Any) -> None:
        with self._lock:
            trial = self._trials[number].replace(state=state, finished_at=time.time(), **changes)
            self._trials[number] = trial
            self._stop_trials.discard(number)
        self.tuner.observe(trial)
        self._publish("finished", trial)

    def _report(self, number: int, step: int, value: float) -> bool:
        """Record an intermediate result and ask the assessor; True means: stop this trial."""
        with self._lock:
            trial = self._trials.get(number)
            if trial is None or trial.state.is_finished:
                return True
            trial = trial.replace(intermediates=trial.intermediates + ((step, value),))
            self._trials[number] = trial
            history = [t for n, t in self._trials.items() if n != number]
        self._publish("reported", trial)
        if self.assessor is not None and self.assessor.assess(trial, history) == Decision.STOP:
            with self._lock:
                self._stop_trials.add(number)
        with self._lock:
            return number in self._stop_trials or self._stop_requested.is_set()

    def _publish(self, kind: str, trial: Trial) -> None:
        event = TrialEvent(kind, trial)
        for callback in list(self._subscribers):
            callback(event)


class _Sink:
    """The study's side of a pool: reports are assessed at once, outcomes queued for the loop."""

    def __init__(self, study: Study):
        self._study = study

    def on_report(self, trial_number: int, step: int, value: float) -> bool:
        return self._study._report(trial_number, step, value)

    def on_outcome(self, outcome: Outcome) -> None:
        self._study._events.put(outcome)


def _check_limit(label: str, value: Any, *, minimum: float, integer: bool = False) -> None:
    kinds = (int,) if integer else (int, float)
    if isinstance(value, bool) or not isinstance(value, kinds) or value < minimum:
        rule = f"an integer >= {minimum}" if integer else f"a number > {minimum}"
        raise ConfigurationError(f"{label} must be {rule}, got {value!r}")
