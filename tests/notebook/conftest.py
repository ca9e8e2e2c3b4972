"""Run notebooks built in the tests on a real ipykernel through nbclient."""

from __future__ import annotations

import nbformat
import pytest
from nbclient import NotebookClient


class NotebookRun:
    """A notebook built cell by cell, executed top to bottom in ``folder`` on a real kernel."""

    def __init__(self, folder):
        self.folder = folder
        self.nb = nbformat.v4.new_notebook()

    def cell(self, source: str) -> int:
        self.nb.cells.append(nbformat.v4.new_code_cell(source))
        return len(self.nb.cells) - 1

    def execute(self, timeout: int = 240, allow_errors: bool = False, **kwargs) -> "NotebookRun":
        client = NotebookClient(self.nb, kernel_name="python3", timeout=timeout, allow_errors=allow_errors,
                                resources={"metadata": {"path": str(self.folder)}}, **kwargs)
        client.execute()
        return self

    def outputs(self, index: int) -> list:
        return self.nb.cells[index].outputs

    def text(self, index: int) -> str:
        """Everything a cell printed or returned as plain text (streams, results, errors)."""
        parts = []
        for out in self.outputs(index):
            if out.output_type == "stream":
                parts.append(out.text)
            elif out.output_type in ("execute_result", "display_data"):
                parts.append(out.data.get("text/plain", ""))
            elif out.output_type == "error":
                parts.append(f"{out.ename}: {out.evalue}\n" + "\n".join(out.traceback))
        return "".join(parts)


@pytest.fixture
def notebook(tmp_path, monkeypatch):
    monkeypatch.setenv("AUTOTUNE_NB_STORE", str(tmp_path / "autotune_nb.db"))
    return NotebookRun(tmp_path)
