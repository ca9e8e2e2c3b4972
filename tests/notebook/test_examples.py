"""Every example notebook runs top to bottom on a real kernel (quick mode: fewer trials, same code)."""

from __future__ import annotations

import pathlib
import shutil

import nbformat
import pytest
from nbclient import NotebookClient

EXAMPLES = sorted((pathlib.Path(__file__).parents[2] / "examples").glob("*.ipynb"))


@pytest.mark.timeout(900)
@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_example_runs_top_to_bottom(path, tmp_path, monkeypatch):
    monkeypatch.setenv("AUTOTUNE_QUICK", "1")
    shutil.copy(path, tmp_path)
    nb = nbformat.read(tmp_path / path.name, as_version=4)
    NotebookClient(nb, kernel_name="python3", timeout=600, resources={"metadata": {"path": str(tmp_path)}}).execute()
    errors = [out for cell in nb.cells if cell.cell_type == "code" for out in cell.outputs
              if out.output_type == "error"]
    assert not errors
    # Nothing failed out of sight either: a widget timer's exception is printed to stderr, not raised.
    printed = [out.text for cell in nb.cells if cell.cell_type == "code" for out in cell.outputs
               if out.output_type == "stream" and out.name == "stderr"]
    assert not [text for text in printed if "Traceback" in text]
    # Every study cell left its finished study's static view (readable without a kernel) in the output.
    study_cells = [c for c in nb.cells if c.cell_type == "code" and c.source.startswith("%%autotune")]
    assert study_cells
    for cell in study_cells:
        kinds = {key for out in cell.outputs for key in out.get("data", {})}
        assert "application/vnd.jupyter.widget-view+json" in kinds  # the live dashboard
        assert "application/vnd.autotune.study+json" in kinds and "text/html" in kinds


def test_examples_are_stored_without_outputs():
    for path in EXAMPLES:
        nb = nbformat.read(path, as_version=4)
        assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code"), path.name
