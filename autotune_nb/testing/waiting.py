"""Waiting in tests for something another process or thread does, without timing asserts."""

from __future__ import annotations

import time
from typing import Callable

import pytest


def wait_for(condition: Callable[[], bool], timeout: float, what: str, *, poll: float = 0.05) -> None:
    """Return once ``condition()`` is true; fail the test naming ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(poll)
    pytest.fail(f"timed out after {timeout:g}s waiting for {what}")
