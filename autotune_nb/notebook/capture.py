"""Ship the notebook names a trial reads to the worker processes, once per study.

Each value is checked up front (before any trial starts) and written to a study folder: large numpy
arrays as ``.npy`` files that workers open as read-only memory maps (no copy per worker, none per
trial), everything else in one cloudpickle file (functions and classes defined in the notebook travel
by value). ``CellTrial`` is the picklable trial function: it carries only the compiled program and the
folder's path, and loads the namespace on its first call in each worker. For workers that cannot read
this machine's folder (a Dask cluster), ``CellTrial.self_contained()`` carries the files' bytes instead.
"""

from __future__ import annotations

import io
import linecache
import os
import pickle
from typing import Any, Mapping

import cloudpickle
import numpy as np

from ..errors import CaptureError
from .cell import TrialProgram

#: Arrays at least this large are memory-mapped rather than pickled.
MMAP_MIN_BYTES = 1 << 20
_PICKLE_FILE = "namespace.pkl"

_FIXES = {
    "lock": "create the lock inside the cell; a lock cannot cross processes",
    "RLock": "create the lock inside the cell; a lock cannot cross processes",
    "socket": "open the connection inside the cell",
    "Connection": "open the connection inside the cell",
    "generator": "turn it into a list in an earlier cell, or create it inside the cell",
}


def _fix_for(value: Any) -> str:
    if isinstance(value, io.IOBase):
        return "open the file inside the cell, or pass its path"
    return _FIXES.get(type(value).__name__, "create it inside the cell, or convert it to plain data")


def capture(names: tuple[str, ...], user_ns: Mapping[str, Any], folder: str) -> dict[str, str]:
    """Write ``names`` from ``user_ns`` into ``folder``; returns ``{name: "pickle" | "mmap"}``.

    Raises ``CaptureError`` naming the first variable that cannot be sent, its type and a fix.
    """
    os.makedirs(folder, exist_ok=True)
    blobs: dict[str, bytes] = {}
    layout: dict[str, str] = {}
    for name in names:
        value = user_ns[name]
        if isinstance(value, np.ndarray) and value.nbytes >= MMAP_MIN_BYTES and value.dtype != object:
            np.save(os.path.join(folder, f"{name}.npy"), value, allow_pickle=False)
            layout[name] = "mmap"
            continue
        try:
            if isinstance(value, io.IOBase):  # cloudpickle would copy a file's content, not the handle
                raise TypeError("an open file handle cannot cross processes")
            blobs[name] = cloudpickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
        except Exception as exc:
            raise CaptureError(
                f"variable {name!r} ({type(value).__module__}.{type(value).__qualname__}) cannot be sent "
                f"to the trial workers: {type(exc).__name__}: {exc}. Fix: {_fix_for(value)}."
            ) from None
        layout[name] = "pickle"
    with open(os.path.join(folder, _PICKLE_FILE), "wb") as f:
        pickle.dump(blobs, f, protocol=pickle.HIGHEST_PROTOCOL)
    return layout


def _file_names(layout: Mapping[str, str]) -> list[str]:
    return [_PICKLE_FILE] + [f"{name}.npy" for name, kind in layout.items() if kind == "mmap"]


def read_files(folder: str, layout: Mapping[str, str]) -> dict[str, bytes]:
    """The bytes of every file ``capture`` wrote, by file name."""
    files = {}
    for file_name in _file_names(layout):
        with open(os.path.join(folder, file_name), "rb") as f:
            files[file_name] = f.read()
    return files


def load(folder: str, layout: Mapping[str, str], files: Mapping[str, bytes] | None = None) -> dict[str, Any]:
    """The captured namespace, arrays as read-only memory maps of the folder's files; from ``files``
    (``read_files``) when given, arrays as read-only copies in memory."""
    def opened(file_name: str):
        return io.BytesIO(files[file_name]) if files is not None else open(os.path.join(folder, file_name), "rb")

    with opened(_PICKLE_FILE) as f:
        namespace = {name: pickle.loads(blob) for name, blob in pickle.load(f).items()}
    for name, kind in layout.items():
        if kind == "mmap":
            if files is None:
                namespace[name] = np.load(os.path.join(folder, f"{name}.npy"), mmap_mode="r")
            else:
                namespace[name] = np.load(opened(f"{name}.npy"), allow_pickle=False)
                namespace[name].setflags(write=False)
    return namespace


class CellTrial:
    """The trial function of a ``%%autotune`` cell: ``CellTrial(...)(params) -> result``.

    Pickles small (program + folder path); the namespace is loaded on the first call in a process.
    """

    def __init__(self, program: TrialProgram, folder: str, layout: Mapping[str, str], cell_text: str):
        self.program = program
        self.folder = folder
        self.layout = dict(layout)
        self.cell_text = cell_text
        self.files: dict[str, bytes] | None = None  # the folder's files, in a self-contained copy
        self._function = None

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_function"] = None
        return state

    def self_contained(self) -> "CellTrial":
        """A copy that carries the captured files' bytes, for workers that cannot read this machine's
        folder (a Dask cluster): it is pickled once per study and loads from memory, not from the folder."""
        copy = CellTrial(self.program, self.folder, self.layout, self.cell_text)
        copy.files = read_files(self.folder, self.layout)
        return copy

    def _load(self):
        namespace = load(self.folder, self.layout, self.files)
        self.files = None  # loaded: the copy in the namespace is the one kept
        # Tracebacks of trial errors show the cell's own lines.
        lines = self.cell_text.splitlines(keepends=True)
        linecache.cache[self.program.filename] = (len(self.cell_text), None, lines, self.program.filename)
        return self.program.build(namespace)

    def __call__(self, params: Mapping[str, Any]) -> Any:
        if self._function is None:
            self._function = self._load()
        return self._function(dict(params))
