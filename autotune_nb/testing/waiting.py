"""Waiting in tests for something another process or thread does, without timing asserts."""

from __future__ import annotations

import threading
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


def run_in_thread(study, trial, **run_options) -> tuple[threading.Thread, threading.Event]:
    """Start ``study.run(trial, **run_options)`` in a thread; returns it and an event set when the first
    trial has begun (wait on it before acting on the running study)."""
    began = threading.Event()

    def marked(params):
        began.set()
        return trial(params)

    runner = threading.Thread(target=study.run, args=(marked,), kwargs=run_options)
    runner.start()
    return runner, began
