"""StudyConfig: what identifies a study and rebuilds its tuner and assessor.

Its own module because the study, the store and the export all need it, and the study imports the
other two.
"""

from __future__ import annotations

import dataclasses


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
