"""Every test gets its own SQLite store: nothing is written to the working folder."""

import pytest


@pytest.fixture(autouse=True)
def _private_store(tmp_path, monkeypatch):
    monkeypatch.setenv("AUTOTUNE_NB_STORE", str(tmp_path / "autotune_nb.db"))
