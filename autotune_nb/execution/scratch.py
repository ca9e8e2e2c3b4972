"""Private temp folders for what a run ships to its workers, removed when the run ends and swept
after a process that was killed.

What a run ships to its workers (the local pool's pickled trial function; a ``%%autotune`` cell's
captured namespace, whose memory-mapped arrays can be tens of MB) lives in folders
``autotune-run-<random>`` of the temp directory, one per owner of such files. Each folder's
``owner.json`` names the process that made it (``owner.ProcessOwner``: host, pid and process start
time, so a later process that got the same pid is not taken for the owner). The run removes its
folders when it ends, by return, exception or KeyboardInterrupt, and the interpreter removes those
still there when it exits (a study cut short in a daemon thread). A process killed with SIGKILL
removes nothing, so every new run first sweeps the folders whose owner is gone.

Example:
    >>> folder = make_run_folder()
    >>> os.path.basename(folder).startswith("autotune-run-")
    True
    >>> remove_run_folder(folder)
"""

from __future__ import annotations

import atexit
import json
import os
import shutil
import tempfile
import threading

from ..owner import ProcessOwner

PREFIX = "autotune-run-"
OWNER_FILE = "owner.json"

_made: dict[str, int] = {}  # folder -> pid of the process that made it (a forked child must not remove it)
_made_lock = threading.Lock()


def make_run_folder() -> str:
    """A new private folder (mode 0700) for one run, after sweeping the folders of dead processes."""
    sweep()
    folder = tempfile.mkdtemp(prefix=PREFIX)
    with _made_lock:
        _made[folder] = os.getpid()
    with open(os.path.join(folder, OWNER_FILE), "w", encoding="utf-8") as file:
        json.dump(ProcessOwner.current().to_dict(), file)
    return folder


def remove_run_folder(folder: str) -> None:
    """Remove a folder ``make_run_folder`` made, with everything in it."""
    shutil.rmtree(folder, ignore_errors=True)
    with _made_lock:
        _made.pop(folder, None)


def sweep(directory: str | None = None) -> list[str]:
    """Remove the run folders in ``directory`` (default: the temp directory) whose owner process
    is gone; returns their paths.

    Kept: folders of live processes, of processes on other hosts (a shared temp directory), and
    folders without a readable owner file (one being made right now). On Windows nothing is swept:
    ``os.kill(pid, 0)``, the liveness check, would terminate the process there.
    """
    if os.name == "nt":
        return []
    removed = []
    try:
        entries = [entry for entry in os.scandir(directory or tempfile.gettempdir()) if entry.name.startswith(PREFIX)]
    except OSError:
        return removed
    for entry in entries:
        try:
            with open(os.path.join(entry.path, OWNER_FILE), encoding="utf-8") as file:
                owner = ProcessOwner.from_dict(json.load(file))
        except (OSError, ValueError):  # no owner file yet, another user's folder, or removed meanwhile
            continue
        if owner is not None and owner.is_alive() is False:
            shutil.rmtree(entry.path, ignore_errors=True)
            removed.append(entry.path)
    return removed


@atexit.register
def _remove_at_exit() -> None:
    with _made_lock:
        mine = [folder for folder, pid in _made.items() if pid == os.getpid()]
    for folder in mine:
        remove_run_folder(folder)
