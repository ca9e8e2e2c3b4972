"""A study's lease: which run of which process runs it now, so that no two runs share a study.

The lease lives in the study's row of the store (``owner``: the process and a run id, ``heartbeat``:
when the owner last showed it lives). The store takes and releases it in ``acquire_lease`` and
``release_lease``; its writer renews the heartbeat.
"""

from __future__ import annotations

import dataclasses
import json
import time

from ..owner import ProcessOwner

#: A running study's owner writes its heartbeat this often; a lease whose heartbeat is older than
#: LEASE_TIMEOUT_S is stale and may be taken over (on the owner's own host, a dead owner's at once).
HEARTBEAT_S = 2.0
LEASE_TIMEOUT_S = 30.0


@dataclasses.dataclass(frozen=True)
class Lease:
    """Who runs a study now: one run (``run``, a fresh id per ``Study.run``) of one process."""

    owner: ProcessOwner
    run: str

    def to_text(self) -> str:
        return json.dumps({**self.owner.to_dict(), "run": self.run})

    @classmethod
    def from_text(cls, text: str | None) -> "Lease | None":
        try:
            data = json.loads(text) if text else None
        except ValueError:
            return None
        owner = ProcessOwner.from_dict(data)
        return cls(owner, str(data["run"])) if owner is not None and "run" in data else None


def may_be_alive(lease: Lease, heartbeat: float | None) -> bool:
    """Whether the run holding ``lease`` may still be running: its process lives (on this host, where
    that can be seen) and has renewed its heartbeat within LEASE_TIMEOUT_S."""
    fresh = heartbeat is not None and time.time() - heartbeat < LEASE_TIMEOUT_S
    return fresh and lease.owner.is_alive() is not False
