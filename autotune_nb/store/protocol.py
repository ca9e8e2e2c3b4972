"""What the rest of autotune_nb asks of a study store: the ``StudyStorage`` protocol.

``sqlite.StudyStore`` is the store this package ships; another backend implements the same methods
and passes ``autotune_nb.testing.store_contract.StoreContract``. The study, the magic and the
export know stores only through this protocol.
"""

from __future__ import annotations

import dataclasses
from typing import Protocol, Sequence, runtime_checkable

from ..config import StudyConfig
from ..trial import Trial
from ..vocabulary import StudyState


@dataclasses.dataclass(frozen=True)
class StudySummary:
    """One line of ``list_studies``. ``best_value`` is over SUCCEEDED trials, in the study's direction."""

    name: str
    state: str
    tuner: str
    direction: str
    n_trials: int
    best_value: float | None
    updated_at: float
    #: Why this study cannot be loaded (its stored settings are damaged), or None.
    problem: str | None = None


@runtime_checkable
class StudyStorage(Protocol):
    """Named studies and their trials, durable across processes.

    Writes of trials may be queued (``save_trial`` must not make the study loop wait on a disk);
    ``flush`` makes them durable and raises ``StoreError`` for what could not be written. Study-level
    writes take effect before they return. Errors are ``StoreError``; a study run elsewhere is
    ``StudyBusyError``.
    """

    #: Where the studies are, in words a user can act on (a file path for SQLite).
    path: str

    def create_study(self, config: StudyConfig, *, exist_ok: bool = False) -> None:
        """Add a study in state "running"; a taken name is refused unless ``exist_ok``."""

    def import_study(self, config: StudyConfig, trials: Sequence[Trial], state: str) -> None:
        """Add a whole study at once, or nothing."""

    def save_trial(self, name: str, trial: Trial) -> None:
        """Write (or queue) the trial's whole record; the last snapshot of a number wins."""

    def set_state(self, name: str, state: str) -> None:
        """Set the study's state (one of ``vocabulary.STUDY_STATES``)."""

    def acquire_lease(self, name: str, run: str) -> int:
        """Make ``run`` the study's one run (refusing a live other run); returns the next unused number."""

    def release_lease(self, name: str, run: str) -> None:
        """End ``run``'s lease; a no-op when it does not hold it."""

    def delete_study(self, name: str) -> None:
        """Remove the study and its trials."""

    def flush(self, timeout: float | None = None) -> None:
        """Make every queued write durable; raise StoreError naming what could not be written."""

    def close(self) -> None:
        """Flush and release the storage; idempotent."""

    def load_study(self, name: str) -> tuple[StudyConfig, list[Trial]]:
        """The study's settings and its trials by number."""

    def state_of(self, name: str) -> StudyState:
        """The study's stored state."""

    def list_studies(self) -> list[StudySummary]:
        """Every study, most recently updated first; a damaged one with its ``problem``."""
