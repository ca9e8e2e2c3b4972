"""Persistence of studies: the ``StudyStorage`` protocol and its SQLite implementation.

- ``protocol.py``: what a store offers (``StudyStorage``) and ``StudySummary``;
- ``sqlite.py``: ``StudyStore``, one SQLite file of many studies, and ``shared_store``;
- ``schema.py``: the file's tables, upgrades, connections and rows;
- ``writer.py``: the one thread of a process that writes a file;
- ``lease.py``: which run of which process runs a study now.
"""

from __future__ import annotations

import os

from ..errors import StoreError
from ..trial import LOST_REASON
from .lease import HEARTBEAT_S, LEASE_TIMEOUT_S
from .protocol import StudyStorage, StudySummary
from .schema import DEFAULT_FILENAME, ENV_VAR, SCHEMA_VERSION, default_store_path
from .sqlite import StudyStore, shared_store

__all__ = [
    "DEFAULT_FILENAME", "ENV_VAR", "HEARTBEAT_S", "LEASE_TIMEOUT_S", "LOST_REASON", "SCHEMA_VERSION",
    "StudyStorage", "StudyStore", "StudySummary", "default_store_path", "open_store", "shared_store",
]


def open_store(storage: "StudyStorage | str | os.PathLike | bool | None") -> StudyStorage | None:
    """What ``Study(storage=...)`` means: None/False no store, True the default file, a path that
    file (the process's shared ``StudyStore`` of it), a ``StudyStorage`` itself."""
    if storage is None or storage is False:
        return None
    if storage is True:
        return shared_store()
    if isinstance(storage, (str, os.PathLike)):
        return shared_store(storage)
    if isinstance(storage, StudyStorage):
        return storage
    raise StoreError(f"storage must be a path, a study store, True (the default file) or None, got {storage!r}")
