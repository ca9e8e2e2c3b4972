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
import functools
import os
import shutil
import threading
import time
import uuid
import weakref
from typing import Any, Callable, Mapping, Sequence

import numpy as np

from .assessors import Assessor, Decision, create_assessor
from .class_args import require_int, require_number, require_one_of
from .config import StudyConfig
from .errors import ConfigurationError
from .checkpoints import CheckpointFolders, study_folder
from .directives import Directives
from .execution.base import Outcome, Pool, TrialJob
from .export import read_json, read_study, write_json
from .tuners.warm_start import warm_start_trials
from .run_loop import RunLoop
from .space import SearchSpace
from .store import StudyStorage, open_store
from .trial import LOST_REASON, InvalidResultError, Trial, TrialState, parse_result
from .tuners import Tuner, create_tuner
from .vocabulary import DIRECTIONS, Direction, EventKind, OutcomeKind, StudyState


@dataclasses.dataclass(frozen=True)
class TrialEvent:
    """Published to subscribers on every trial state change. ``kind``: started | reported | finished."""

    kind: EventKind
    trial: Trial



def continuation_seed(seed: int, position: int) -> int:
    """The tuner seed of a study rebuilt from its stored trials, ``position`` trials in: a stream of its
    own, so that a resumed study does not replay the random draws of its first run (a resumed Random
    study would repeat its first trials), and still the same stream for the same seed and trials."""
    return int(np.random.SeedSequence([seed, position]).generate_state(1)[0])


class Study:
    """A named tuning experiment over a search space.

    The constructor checks everything and writes nothing: the study enters its store when it first
    runs, or at once through ``Study.create`` (which refuses a taken name before anything else).
    ``Study.load`` and ``Study.from_json`` give stored and exported studies back.

    Args:
        space: NNI search-space JSON (a dict, or a ``SearchSpace``) or Python declarations
            (``{"lr": at.loguniform(1e-4, 0.1)}``).
        tuner: a registered tuner name (NNI's: TPE, Random, Anneal, Evolution, GridSearch, Batch, GP, ...;
            Hyperband, BOHB and PBTTuner give their trials budgets and checkpoints: ``directives.py``).
        tuner_args: the tuner's classArgs (``optimize_mode`` comes from ``direction``).
        assessor: an assessor name (Medianstop, Curvefitting, ASHA) or None.
        direction: "maximize" or "minimize" the trials' results.
        seed: makes the tuner's sequence reproducible.
        name: the study's name in the store; a fresh one is made when omitted.
        storage: where every trial change is written: True (default) the file ``autotune_nb.db`` in
            the working folder (or ``$AUTOTUNE_NB_STORE``), a path, a ``StudyStorage`` (e.g. a
            ``StudyStore``), or None (nowhere).
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
        storage: StudyStorage | str | os.PathLike | bool | None = True,
    ):
        require_one_of("Study", "direction", direction, DIRECTIONS)
        if seed is not None:
            require_int("Study", "seed", seed, minimum=0, why="or None")
        if name is not None:
            _check_name(name)
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
        self.tuner: Tuner = self._create_tuner(seed)
        # The space the tuner searches: the given one, or for Batch the one its configurations span.
        self.space = self.tuner.space
        self.assessor: Assessor | None = (
            create_assessor(assessor, optimize_mode=direction, class_args=self.config.assessor_args)
            if assessor else None
        )
        self._trials: dict[int, Trial] = {}
        #: The next trial number: above every number this study has used, here or in its store.
        self._next_number = 0
        self._subscribers: list[Callable[[TrialEvent], None]] = []
        self._run_end_subscribers: list[Callable[[StudyState], None]] = []
        self._stop_requested = threading.Event()
        self._stop_trials: set[int] = set()
        self._lock = threading.Lock()
        self._run_lock = threading.Lock()  # one run at a time
        self._loop: RunLoop | None = None
        #: Why the last run ended before max_trials, in words (None when it did not).
        self.stop_reason: str | None = None
        #: None before the first run, then the StudyState (as in the store).
        self.state: StudyState | None = None
        self._store = open_store(storage)
        self._in_store = False  # whether the store holds this study yet

    @classmethod
    def create(cls, space: Mapping | SearchSpace, **settings: Any) -> "Study":
        """``Study(space, **settings)`` entered in its store now: a name the store holds is refused
        here, before any trial, rather than when the study first runs."""
        study = cls(space, **settings)
        study._enter_store()
        return study

    @classmethod
    def load(cls, name: str, *, storage: StudyStorage | str | os.PathLike | bool = True) -> "Study":
        """The study ``name`` as its store has it, every trial included; ``resume`` continues it."""
        store = open_store(storage)
        if store is None:
            raise ConfigurationError("Study.load needs a storage: True (the default file), a path or a study store")
        config, trials = store.load_study(name)
        study = cls._rebuild(config, trials, store)
        study.state = store.state_of(name)
        return study

    @classmethod
    def from_json(cls, path: str | os.PathLike, *,
                  storage: StudyStorage | str | os.PathLike | bool | None = None, name: str | None = None) -> "Study":
        """A study read from a ``to_json`` file (never runs code from it).

        By default it is kept in no store. With ``storage`` (True: the default file) it is added
        there, under ``name`` if given, so that ``Study.load``, ``resume`` and ``%autotune list`` see
        it; a name the store already holds is refused, and nothing is written then.
        """
        config, trials, state = read_study(path)
        if name is not None:
            _check_name(name)
            config = dataclasses.replace(config, name=name)
        # "running" in a file means it was exported mid-run: no process runs it here.
        state = StudyState.STOPPED if state in (None, StudyState.RUNNING) else StudyState(state)
        store = open_store(storage) if storage else None
        study = cls._rebuild(config, trials, store)  # refuses an unknown tuner or a bad space: nothing written
        if store is not None:
            store.import_study(config, trials, state)
        study.state = state
        return study

    @classmethod
    def from_nni_config(cls, config: Any, **settings: Any) -> "Study":
        """A study (created in its store, not run) with the search space, tuner, assessor, classArgs,
        direction and name of an NNI config file (``config``: its path; v1, v2 or T9k's
        AutoTuneExperiment), or of the ``NniExperiment`` that
        ``autotune_nb.nni_config.read_nni_config`` read from one; ``settings`` (any ``Study``
        argument: ``seed``, ``storage``, ``name``, ``tuner``, ...) override the file's.

        The file's run options come with the experiment read::

            experiment = read_nni_config("config.yml")   # fields not honoured: NniConfigWarning
            study = Study.from_nni_config(experiment, seed=0)
            study.run(train, **experiment.run_options())
        """
        from .nni_config import NniExperiment, read_nni_config

        experiment = config if isinstance(config, NniExperiment) else read_nni_config(config)
        merged = {**experiment.study_settings(), **settings}
        space = merged.pop("space")
        if not space:
            hint = (" (useAnnotation: the annotations declare it in %%autotune --config)"
                    if experiment.use_annotation else "")
            raise ConfigurationError(f"{os.path.basename(experiment.path)} has no search space (searchSpace, "
                                     f"searchSpaceFile or searchSpacePath){hint}: give space=...")
        return cls.create(space, **merged)

    def _create_tuner(self, seed: int | None) -> Tuner:
        """The study's tuner over the space as given (``config.space``: Batch reads its options there)."""
        config = self.config
        return create_tuner(config.tuner, config.space, optimize_mode=config.direction, seed=seed,
                            class_args=config.tuner_args)

    @classmethod
    def _rebuild(cls, config: StudyConfig, trials: list[Trial], store: StudyStorage | None) -> "Study":
        """The study of a stored or exported config, its tuner having observed every ended trial."""
        study = cls(config.space, tuner=config.tuner, tuner_args=config.tuner_args, assessor=config.assessor,
                    assessor_args=config.assessor_args, direction=config.direction, seed=config.seed,
                    name=config.name, storage=store)
        if trials and config.seed is not None:
            study.tuner = study._create_tuner(continuation_seed(config.seed, max(t.number for t in trials) + 1))
        study._take_in(trials)
        study._in_store = store is not None
        return study

    def to_json(self, path: str | os.PathLike) -> None:
        """Write the study (settings and every trial) as a versioned JSON document."""
        write_json(path, self.config, self.trials, state=self.state)

    def warm_start(self, source: "Study | str | os.PathLike") -> int:
        """Let the tuner learn from the finished trials of another study (a Study or a ``to_json``
        file) whose parameters fit this space. Returns how many it observed."""
        trials = source.trials if isinstance(source, Study) else read_json(source)[1]
        usable = warm_start_trials(trials, self.space)
        for trial in usable:
            self.tuner.observe(trial)
        return len(usable)

    def resume(self, fn: Callable[[dict], Any], max_trials: int = 30, **run_options: Any) -> "Study":
        """Continue a loaded study: ``run(fn, max_trials, ...)``, which first marks the trials a dead
        process left unfinished FAILED ("lost") and adds up to ``max_trials`` more. A study that a
        live process is running is refused (``StudyBusyError``)."""
        return self.run(fn, max_trials, **run_options)

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
        return Direction(self.direction).best(self.trials)

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
        """Call ``callback(event)`` on every trial change; returns a function that unsubscribes.

        "reported" events come from the thread that receives the workers' reports, the others from
        the thread running the study, so two calls may overlap: keep the callback quick and
        thread-safe (the dashboard only marks itself stale, under a lock).
        """
        self._subscribers.append(callback)
        return lambda: self._subscribers.remove(callback)

    def on_run_end(self, callback: Callable[[StudyState], None]) -> Callable[[], None]:
        """Call ``callback(state)`` from the run's thread each time a run ends (its final state is
        recorded, its lease released); returns a function that unsubscribes. A dashboard following
        the study from another cell learns here that the run is over."""
        self._run_end_subscribers.append(callback)
        return lambda: self._run_end_subscribers.remove(callback)

    def stop(self, reason: str = "stopped by request") -> None:
        """Ask a running study to end: waiting trials are dropped, running ones CANCELED. ``reason``
        becomes ``stop_reason`` ("interrupted": a kernel interrupt of the cell waiting on the run)."""
        self.stop_reason = reason
        self._stop_requested.set()
        loop = self._loop
        if loop is not None:
            loop.wake()

    def _repr_mimebundle_(self, include=None, exclude=None) -> dict:
        """The static view (HTML table and SVG chart, and the study JSON): readable without a kernel.
        The live dashboard is the notebook layer's: ``at.dashboard(study)``."""
        from .views.static import study_mimebundle

        return study_mimebundle(self.config, self.trials, self.state)

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
        gpus: Sequence[int | str] | str | None = None,
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
        trial records its slot and GPU; ``gpus="all"`` is every GPU visible here (refused where none
        is). A worker that dies (segfault, out of memory) fails its trial only. ``executor="inline"``
        runs trials one at a time in this process (debugging, functions that cannot be pickled); a
        ``Pool`` instance is used as given: ``at.LocalPool(env=...)``, or
        ``at.DaskPool(client, gpus="all", trials_per_gpu=k)`` to run the trials on a Dask cluster.
        """
        if not callable(fn):
            raise ConfigurationError(f"run needs the trial function fn(params) -> result, got {fn!r} "
                                     f"of type {type(fn).__name__}")
        require_int("run", "max_trials", max_trials, minimum=1)
        for label, value in (("max_duration", max_duration), ("trial_timeout", trial_timeout)):
            if value is not None:
                require_number("run", label, value, above=0)
        if max_failures is not None:
            require_int("run", "max_failures", max_failures, minimum=0, why="0: never stop")
        failures_limit = max_failures if max_failures is not None else min(5, max_trials)
        pool = self._make_pool(executor, concurrency, gpus, trials_per_gpu)
        if not self._run_lock.acquire(blocking=False):
            raise ConfigurationError(f"study {self.name!r} is already running in this process; wait for that "
                                     "run to end, or call stop() on it, before starting another")
        try:
            run_id = self._begin_run()
            loop = self._loop = RunLoop(self, pool, max_trials=max_trials, max_duration=max_duration,
                                        trial_timeout=trial_timeout, failures_limit=failures_limit)
            try:
                loop.run(fn)
            except BaseException:
                self._end_run(run_id, StudyState.FAILED)
                raise
            self._end_run(run_id, StudyState.STOPPED if self._stop_requested.is_set() else StudyState.FINISHED)
        finally:
            self._loop = None
            self._run_lock.release()
        return self

    def _begin_run(self) -> str | None:
        """Take the study's lease in its store (refused while another live run holds it), take in the
        trials the store has that this object has not seen, mark those left unfinished lost, and
        continue numbering above every number used. Returns the run's lease id."""
        self._stop_requested.clear()
        self.stop_reason = None
        run_id = None
        if self._store is not None:
            if not self._in_store:
                self._enter_store()
            run_id = uuid.uuid4().hex
            next_in_store = self._store.acquire_lease(self.name, run_id)
            try:
                self._take_in(self._store.load_study(self.name)[1])
            except BaseException:
                self._store.release_lease(self.name, run_id)
                raise
            self._next_number = max(self._next_number, next_in_store)
        with self._lock:
            lost = [t.replace(state=TrialState.FAILED, reason=LOST_REASON)
                    for t in self._trials.values() if not t.state.is_finished]
            self._trials.update((t.number, t) for t in lost)
            self._next_number = max(self._next_number, max(self._trials, default=-1) + 1)
        for trial in lost:
            self.tuner.observe(trial)
            self._publish(EventKind.FINISHED, trial)
        self.state = StudyState.RUNNING
        return run_id

    def _enter_store(self) -> None:
        if self._store is not None:
            self._store.create_study(self.config)
            self._in_store = True

    def _take_in(self, stored: list[Trial]) -> None:
        """Adopt the trials this object lacks or holds unfinished (another process ran them)."""
        with self._lock:
            newer = [self._with_log(t) for t in stored if t.number not in self._trials
                     or (t.state.is_finished and not self._trials[t.number].state.is_finished)]
            self._trials.update((t.number, t) for t in newer)
            self._next_number = max(self._next_number, max(self._trials, default=-1) + 1)
        for trial in newer:
            if trial.state.is_finished:
                self.tuner.observe(trial)
            self._publish(EventKind.FINISHED if trial.state.is_finished else EventKind.STARTED, trial)

    def _end_run(self, run_id: str | None, state: StudyState) -> None:
        """Record the run's end, then release the lease. Raises StoreError naming the trials that are
        not on disk (they stay in this object; the store saves them at its next write)."""
        self.state = state
        try:
            if self._store is not None:
                self._end_run_in_store(run_id, state)
        finally:
            for callback in list(self._run_end_subscribers):
                callback(state)

    def _end_run_in_store(self, run_id: str | None, state: StudyState) -> None:
        try:
            self._store.flush()
        finally:
            try:
                self._store.set_state(self.name, state)
            finally:
                self._store.release_lease(self.name, run_id)

    def _save(self, trial: Trial) -> None:
        """Queue the trial for the store. Called under ``self._lock``, so snapshots reach it in order."""
        if self._store is not None:
            self._store.save_trial(self.name, trial)

    @staticmethod
    def _make_pool(executor: str | Pool, concurrency: int | None, gpus: Sequence[int | str] | str | None,
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

    # --- state changes ---------------------------------------------------------------------------
    def _trial(self, number: int) -> Trial:
        with self._lock:
            return self._trials[number]

    def _new_trial(self, params: dict, slot: Any, directives: Directives | None = None) -> Trial:
        """A RUNNING trial; with ``directives`` it gets a checkpoint folder, holding a copy of its
        parent's checkpoint when the parent saved one (``resumed``)."""
        with self._lock:
            number = self._next_number
            self._next_number += 1
            if directives is not None:
                resumed = self._checkpoints.prepare(number, directives.parent)
                directives = directives.replace(resumed=resumed if directives.parent is not None else None)
            trial = Trial(number=number, params=params, state=TrialState.RUNNING, started_at=time.time(),
                          slot=slot.index, gpu=slot.gpu, directives=directives)
            self._trials[number] = trial
            self._save(trial)
        self._publish(EventKind.STARTED, trial)
        return trial

    def _job(self, trial: Trial) -> TrialJob:
        """What a pool runs for ``trial``: its parameters, and its budget and checkpoint folder."""
        if trial.directives is None:
            return TrialJob(trial.number, trial.params, self.name)
        return TrialJob(trial.number, trial.params, self.name, trial.directives.budget,
                        self._checkpoints.path(trial.number))

    @functools.cached_property
    def folder(self) -> str:
        """The folder of the study's files (checkpoints, trial commands' folders): next to its store
        file, or a temporary folder for a study without a store (``checkpoints.study_folder``), removed
        with this object."""
        store_path = getattr(self._store, "path", None)
        folder = study_folder(store_path, self.name)
        if store_path is None:
            weakref.finalize(self, shutil.rmtree, folder, True)
        return folder

    @functools.cached_property
    def _checkpoints(self) -> CheckpointFolders:
        """The study's checkpoint folders (``checkpoints.py``), in its folder."""
        return CheckpointFolders(self.folder)

    def _with_log(self, trial: Trial) -> Trial:
        """``trial`` with its ``log_path``, where a trial command left its output in the study's folder.
        (A study without a store has no folder until something asks for it: then there is no log.)"""
        if self._store is None and "folder" not in vars(self):
            return trial
        # Here, not at the top: command_trial (subprocess, multiprocessing) is not needed to make a study.
        from .execution.command_trial import log_path as trial_log_path

        path = trial_log_path(self.folder, trial.number)
        return trial.replace(log_path=path) if os.path.exists(path) else trial

    def _prune_checkpoints(self) -> None:
        """Delete the checkpoint folders of ended trials that the tuner will not start from again."""
        needed = self.tuner.checkpoints_needed()
        if needed is not None:
            with self._lock:
                running = {n for n, t in self._trials.items() if not t.state.is_finished}
            self._checkpoints.prune(needed | running)

    def _record_outcome(self, outcome: Outcome) -> None:
        trial = self._trials[outcome.trial_number]
        if trial.state.is_finished:  # already ended (timeout, cancel): the late outcome changes nothing
            return
        if outcome.kind == OutcomeKind.RESULT:
            try:
                value, metrics = parse_result(outcome.result)
            except InvalidResultError as exc:
                self._finish(trial.number, TrialState.FAILED, reason=str(exc), error=str(exc))
            else:
                self._finish(trial.number, TrialState.SUCCEEDED, value=value, metrics=metrics)
        elif outcome.kind == OutcomeKind.STOPPED:
            self._finish(trial.number, TrialState.EARLY_STOPPED, reason="stopped early by the assessor")
        else:
            self._finish(trial.number, TrialState.FAILED, error=outcome.error, reason=outcome.reason)

    def _finish(self, number: int, state: TrialState, **changes: Any) -> None:
        with self._lock:
            trial = self._with_log(self._trials[number].replace(state=state, finished_at=time.time(), **changes))
            self._trials[number] = trial
            self._stop_trials.discard(number)
            self._save(trial)
        self.tuner.observe(trial)
        self._prune_checkpoints()
        self._publish(EventKind.FINISHED, trial)

    def _report(self, number: int, step: int, value: float) -> bool:
        """Record an intermediate result and ask the assessor; True means: stop this trial."""
        with self._lock:
            trial = self._trials.get(number)
            if trial is None or trial.state.is_finished:
                return True
            trial = trial.replace(intermediates=trial.intermediates + ((step, value),))
            self._trials[number] = trial
            self._save(trial)
            # The assessor's history is O(trials): built only when there is an assessor to read it.
            history = [t for n, t in self._trials.items() if n != number] if self.assessor else None
        self._publish(EventKind.REPORTED, trial)
        stop = history is not None and self.assessor.assess(trial, history) == Decision.STOP
        with self._lock:
            if stop:
                self._stop_trials.add(number)
            return number in self._stop_trials or self._stop_requested.is_set()

    def _publish(self, kind: EventKind, trial: Trial) -> None:
        event = TrialEvent(kind, trial)
        for callback in list(self._subscribers):
            callback(event)


def _check_name(name: Any) -> None:
    if not isinstance(name, str) or not name.strip():
        raise ConfigurationError(f"name must be a non-empty string, got {name!r}")
