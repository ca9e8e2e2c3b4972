"""Which process owns something (a running study's lease, a run's temporary folder), and whether it
still lives.

A pid alone is not an identity: pids are reused, so a lease left by a killed kernel could look held
by whatever process got its pid. The owner is (host, pid, process start time); on the same host a
process is alive when a process with that pid exists *and* started at that time. A process on
another host cannot be looked at: its liveness is judged by the caller (a heartbeat's age).
"""

from __future__ import annotations

import dataclasses
import os
import socket
from typing import Any

_HOST = socket.gethostname()


def _start_time(pid: int) -> str | None:
    """The process's start time in clock ticks since boot (Linux), or None where it cannot be read."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            # The command name (field 2) may hold spaces and parentheses: count fields after its last ")".
            return stat.read().rsplit(b")", 1)[1].split()[19].decode()
    except (OSError, IndexError):
        return None


def _pid_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by another user
        return True
    return True


@dataclasses.dataclass(frozen=True)
class ProcessOwner:
    host: str
    pid: int
    started: str | None

    @classmethod
    def current(cls) -> "ProcessOwner":
        pid = os.getpid()
        return cls(_HOST, pid, _start_time(pid))

    @property
    def on_this_host(self) -> bool:
        return self.host == _HOST

    def is_alive(self) -> bool | None:
        """True or False on this host; None where it cannot be looked at: a process on another host,
        or any process on Windows (where ``os.kill(pid, 0)`` would end it)."""
        if not self.on_this_host or os.name == "nt":
            return None
        if not _pid_exists(self.pid):
            return False
        return self.started is None or _start_time(self.pid) in (None, self.started)

    def describe(self) -> str:
        return f"process {self.pid} on {self.host}"

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: Any) -> "ProcessOwner | None":
        """The owner written by ``to_dict``, or None for anything else (an unreadable record has no owner)."""
        try:
            return cls(str(data["host"]), int(data["pid"]), None if data["started"] is None else str(data["started"]))
        except (TypeError, KeyError, ValueError):
            return None
