"""The interface every trial pool offers the study: slots, submit, cancel, shutdown.

A pool runs ``TrialJob``s on its slots and reports back through the study's ``EventSink``:
intermediate results as they come, and each job's outcome once. The local loky pool, the Dask pool
and the in-process pool all sit behind this interface, so the study loop does not know which runs.
"""

from __future__ import annotations

import abc
import dataclasses
from typing import Any, Callable, Mapping, Protocol

from ..vocabulary import OutcomeKind


@dataclasses.dataclass(frozen=True)
class Slot:
    """A place where one trial runs at a time. ``gpu`` is the CUDA_VISIBLE_DEVICES value, if any."""

    index: int
    gpu: str | None = None


@dataclasses.dataclass(frozen=True)
class TrialJob:
    """One trial to run. ``study_name`` is what NNI's ``nni.get_experiment_id()`` returns in it;
    ``budget`` and ``checkpoint_dir`` what ``at.budget`` and ``at.checkpoint_dir`` give (directives.py)."""

    trial_number: int
    params: Mapping[str, Any]
    study_name: str | None = None
    budget: float | None = None
    checkpoint_dir: str | None = None


@dataclasses.dataclass(frozen=True)
class Outcome:
    """How a job ended: ``result`` with RESULT; ``error`` (the traceback) and ``reason`` (one line)
    with ERROR; ``reason`` with DIED."""

    trial_number: int
    kind: OutcomeKind
    result: Any = None
    error: str | None = None
    reason: str | None = None


class EventSink(Protocol):
    def on_report(self, trial_number: int, step: int, value: float) -> bool:
        """An intermediate result; returns True when the trial should stop (seen at its next report)."""

    def on_outcome(self, outcome: Outcome) -> None:
        """A job ended (called once per submitted job, from any thread)."""


class Pool(abc.ABC):
    """Runs trial jobs on slots. ``fn(params)`` is the trial function, fixed for the pool's life."""

    slots: list[Slot]

    @abc.abstractmethod
    def start(self, fn: Callable[[dict], Any], sink: EventSink) -> None:
        """Prepare the slots (start workers, ship ``fn`` once)."""

    @abc.abstractmethod
    def submit(self, slot: Slot, job: TrialJob) -> None:
        """Start ``job`` on a free ``slot``; its outcome reaches the sink later."""

    @abc.abstractmethod
    def cancel(self, slot: Slot, reason: str) -> None:
        """End the job running on ``slot`` now (terminate its worker); its outcome is "died" with ``reason``."""

    @abc.abstractmethod
    def shutdown(self) -> None:
        """Stop every worker; no outcome is reported for jobs still running."""

    @property
    def runs_inline(self) -> bool:
        """True where submit runs the job in the calling thread before returning."""
        return False
