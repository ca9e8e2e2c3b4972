"""Warm start: which trials of another study a tuner over a new space can learn from."""

from __future__ import annotations

from typing import Sequence

from ..space import SearchSpace
from ..trial import Trial


def warm_start_trials(trials: Sequence[Trial], space: SearchSpace) -> list[Trial]:
    """The finished trials of another study that a tuner over ``space`` can learn from: those whose
    parameters ``space`` contains. Pass each to ``tuner.observe``."""
    return [trial for trial in trials if trial.state.is_finished and space.contains(dict(trial.params))]
