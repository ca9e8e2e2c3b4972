"""The Tuner protocol: ask/tell over a SearchSpace.

``suggest(n)`` may be called while earlier suggestions are still running; a tuner must not propose a
pending configuration again (constant liar or equivalent). ``observe(trial)`` receives every finished
trial, failed and early-stopped ones included; the tuner decides what each one means for it.
"""

from __future__ import annotations

import abc
import json
from typing import Any, Mapping, Sequence

import numpy as np

from ..class_args import require_optimize_mode
from ..directives import Directives
from ..errors import UnsupportedSpaceError
from ..space import SearchSpace
from ..trial import Trial, TrialState


#: Random draws a tuner makes to find a configuration not yet taken before it gives up.
RANDOM_ATTEMPTS = 100


def config_key(config: Mapping[str, Any]) -> str:
    """A canonical string for a configuration, to compare suggestions by value."""
    return json.dumps(config, sort_keys=True, default=repr)


class Tuner(abc.ABC):
    """Base class of every tuner. Subclasses implement ``_suggest`` and may override ``_observe``.

    ``supported_types`` lists the NNI ``_type`` names the tuner can search (None: all); a space
    with another type is refused at construction, not mid-study.
    """

    supported_types: frozenset[str] | None = None
    supports_nested: bool = True

    def __init__(self, space: SearchSpace | Mapping, *, optimize_mode: str = "maximize", seed: int | None = None):
        self.space = space if isinstance(space, SearchSpace) else SearchSpace(space)
        self.optimize_mode = require_optimize_mode(type(self).__name__, optimize_mode)
        self.seed = seed
        self.rng = np.random.default_rng(seed)
        self._pending: list[dict[str, Any]] = []
        self._history: list[Trial] = []
        self._check_space()

    def _check_space(self) -> None:
        name = type(self).__name__
        for dim in self.space.dimensions:
            kind = dim.distribution.type_name
            if self.supported_types is not None and kind not in self.supported_types:
                raise UnsupportedSpaceError(
                    f"{name} cannot search {dim.key!r} of type {kind}: it supports "
                    f"{', '.join(sorted(self.supported_types))}"
                )
            if dim.conditions and not self.supports_nested:
                raise UnsupportedSpaceError(
                    f"{name} cannot search the nested parameter {dim.key!r}: flatten the space or use TPE"
                )

    # --- the protocol ------------------------------------------------------------------------
    def suggest(self, n: int = 1) -> list[dict[str, Any]]:
        """Up to ``n`` new configurations; fewer (possibly none) when the tuner is exhausted."""
        if n <= 0:
            return []
        configs = self._suggest(n)
        self._pending.extend(configs)
        return configs

    def observe(self, trial: Trial) -> None:
        """Tell the tuner a trial finished (any final state)."""
        key = config_key(trial.params)
        for i, pending in enumerate(self._pending):
            if config_key(pending) == key:
                del self._pending[i]
                break
        self._history.append(trial)
        self._observe(trial)

    @abc.abstractmethod
    def _suggest(self, n: int) -> list[dict[str, Any]]:
        """Propose ``n`` configurations, knowing ``self.pending`` and ``self.history``."""

    def _observe(self, trial: Trial) -> None:
        """Hook for tuners that update a model per observation."""

    def directives(self, config: Mapping[str, Any]) -> Directives | None:
        """The directives (budget, bracket/rung, generation, parent: ``directives.py``) of ``config``,
        which this tuner has just suggested; the run loop asks once per suggestion. None (most tuners).
        The trial carries them, so ``observe`` tells the tuner where each ended trial stood."""
        return None

    def checkpoints_needed(self) -> set[int] | None:
        """The numbers of the ended trials whose checkpoint a later trial may start from; the study
        deletes the other ended trials' checkpoint folders. None: this tuner uses no checkpoints."""
        return None

    # --- helpers for subclasses ----------------------------------------------------------------
    @property
    def pending(self) -> Sequence[dict[str, Any]]:
        return tuple(self._pending)

    @property
    def history(self) -> Sequence[Trial]:
        return tuple(self._history)

    def loss(self, trial: Trial) -> float | None:
        """The number to minimise for a finished trial, or None if it has none.

        SUCCEEDED trials give their value; EARLY_STOPPED ones their last reported value; others none.
        """
        if trial.state == TrialState.SUCCEEDED and trial.value is not None:
            value = trial.value
        elif trial.state == TrialState.EARLY_STOPPED and trial.last_intermediate is not None:
            value = trial.last_intermediate
        else:
            return None
        return -float(value) if self.optimize_mode == "maximize" else float(value)

    def random_config(self, taken: set[str]) -> dict[str, Any] | None:
        """A random configuration whose ``config_key`` is not in ``taken``; None when
        ``RANDOM_ATTEMPTS`` draws all hit taken ones (the space is nearly exhausted)."""
        for _ in range(RANDOM_ATTEMPTS):
            config = self.space.sample(self.rng)
            if config_key(config) not in taken:
                return config
        return None

    def scored_history(self) -> tuple[list[Trial], np.ndarray]:
        """The finished trials that have a loss, and their losses."""
        trials, losses = [], []
        for trial in self._history:
            loss = self.loss(trial)
            if loss is not None:
                trials.append(trial)
                losses.append(loss)
        return trials, np.asarray(losses, dtype=float)
