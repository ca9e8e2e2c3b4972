"""``StudyView``: what the views and the live dashboard read of a study, and all they may touch.

A ``Study`` is one; so is any stand-in with the same read side (the dashboard benchmark feeds a
synthetic study). The protocol has no way to drive a study: the dashboard's one control, its Stop
button, is handed to it as a callable by whoever runs the study (``Dashboard(..., stop=study.stop)``),
so a view never reaches into the engine.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable, Protocol, Sequence, runtime_checkable

from ..config import StudyConfig
from ..space import SearchSpace
from ..trial import Trial
from ..vocabulary import StudyState

if TYPE_CHECKING:  # the engine's module: a view names its event type, never imports it
    from ..study import TrialEvent


@runtime_checkable
class StudyView(Protocol):
    """The read side of a study. The name and direction are ``config.name`` and ``config.direction``."""

    @property
    def config(self) -> StudyConfig:
        """What identifies the study: name, search space (NNI JSON), tuner, assessor, direction."""

    @property
    def space(self) -> SearchSpace:
        """The search space the tuner searches: its dimensions and unit-cube encoding."""

    @property
    def trials(self) -> Sequence[Trial]:
        """A snapshot of every trial, by number; each call takes a new one."""

    @property
    def state(self) -> StudyState | None:
        """Running, or how its last run ended; None before it ever ran."""

    def subscribe(self, callback: Callable[[TrialEvent], None]) -> Callable[[], None]:
        """Call ``callback`` on every trial change, from any thread; returns the unsubscribe function."""

    def on_run_end(self, callback: Callable[[StudyState], None]) -> Callable[[], None]:
        """Call ``callback(state)`` when a run of the study ends; returns the unsubscribe function."""
