"""Checkpoint folders of a study's trials: where they live, the copy a promoted or exploiting trial
starts from, and the deletion of the ones no trial will need again.

Each trial of a tuner that gives directives gets its own folder, ``<study folder>/checkpoints/<n>``,
where its code saves its state (``at.checkpoint_dir``). A trial with a ``parent`` starts with a
copy of the parent's folder, when the parent saved anything there: it continues from that state
(NNI's ``load_checkpoint_dir`` is the same folder). The study's folder sits next to its store file
(``<store file>.studies/<study name>``), so the folders survive the process and a resumed study
finds them; a study without a store keeps them in a new temporary folder (nothing resumes it).
"""

from __future__ import annotations

import os
import shutil
import tempfile
import urllib.parse
from typing import Iterable


def study_folder(store_path: str | None, study_name: str) -> str:
    """The folder of a study's files: next to its store file, or a new temporary folder without one."""
    if store_path is None:
        return tempfile.mkdtemp(prefix="autotune-study-")
    return os.path.join(f"{store_path}.studies", urllib.parse.quote(study_name, safe=""))


class CheckpointFolders:
    """The checkpoint folders under ``<study folder>/checkpoints``, one per trial number."""

    def __init__(self, folder: str):
        self.root = os.path.join(folder, "checkpoints")

    def path(self, number: int) -> str:
        return os.path.join(self.root, str(number))

    def prepare(self, number: int, parent: int | None) -> bool:
        """Make trial ``number``'s folder (emptied if a lost run left one), holding a copy of
        ``parent``'s checkpoint if it saved one; True when it did (the trial resumes from it)."""
        own = self.path(number)
        shutil.rmtree(own, ignore_errors=True)
        source = None if parent is None else self.path(parent)
        if source is not None and os.path.isdir(source) and os.listdir(source):
            shutil.copytree(source, own)
            return True
        os.makedirs(own, exist_ok=True)
        return False

    def prune(self, keep: Iterable[int]) -> list[int]:
        """Delete every trial folder whose number is not in ``keep``; returns the numbers deleted."""
        if not os.path.isdir(self.root):
            return []
        keep = {str(number) for number in keep}
        deleted = []
        for name in os.listdir(self.root):
            if name not in keep and name.isdigit():
                shutil.rmtree(os.path.join(self.root, name), ignore_errors=True)
                deleted.append(int(name))
        return sorted(deleted)
