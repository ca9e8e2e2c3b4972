"""The report channel: intermediate results from worker processes to the study, and its answer.

The study process listens on 127.0.0.1 (a random port, a random authentication key; a Dask pool
binds the address its remote workers reach instead). Each worker process opens one connection per
study the first time it needs it, sends ``(trial_number, step, value)`` for every ``at.report`` and
waits for a one-byte answer: stop or continue. The study answers at once from what its assessor
already decided, so a stop reaches the trial at its next report. A worker may also send
``(trial_number,)`` before a trial starts and get the same answer: stop means do not run it.

Example:
    >>> server = ReportServer(lambda trial, step, value: value < 0)
    >>> client = ReportClient(server.endpoint)
    >>> client.report(0, 1, 0.5), client.report(0, 2, -1.0)
    (False, True)
    >>> client.close(); server.close()
"""

from __future__ import annotations

import dataclasses
import logging
import secrets
import threading
from multiprocessing import AuthenticationError
from multiprocessing.connection import Client, Connection, Listener
from typing import Callable

STOP = b"\x01"
CONTINUE = b"\x00"
_POLL_SECONDS = 0.1  # how soon a reader thread notices that the server closed

log = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class Endpoint:
    """Where a worker connects, and the key that proves it was sent by this study."""

    address: tuple[str, int]
    authkey: bytes = dataclasses.field(repr=False)


class ReportServer:
    """The study's side: accepts worker connections and answers each report with stop or continue.

    ``on_report(trial_number, step, value)`` runs in the connection's reader thread and returns True
    when the trial should stop. ``on_start(trial_number)``, where given, answers a worker about to
    start a trial, True meaning: do not run it (Dask runs a task again when its worker died).
    ``host`` is the address to listen on, and the one workers are told to connect to.
    """

    def __init__(self, on_report: Callable[[int, int, float], bool], *, host: str = "127.0.0.1",
                 on_start: Callable[[int], bool] | None = None):
        self._on_report = on_report
        self._on_start = on_start
        authkey = secrets.token_bytes(32)
        self._listener = Listener((host, 0), authkey=authkey)
        self.endpoint = Endpoint(self._listener.address, authkey)
        self._closed = threading.Event()
        self._acceptor = threading.Thread(target=self._accept_loop, name="autotune-channel-accept", daemon=True)
        self._acceptor.start()

    def close(self) -> None:
        """Stop accepting; reader threads end within ``_POLL_SECONDS`` and close their connections."""
        if self._closed.is_set():
            return
        self._closed.set()
        try:  # accept() does not return when the listener is closed under it: connect once to wake it
            Client(self.endpoint.address, authkey=self.endpoint.authkey).close()
        except OSError:
            pass
        self._acceptor.join()
        self._listener.close()

    def _accept_loop(self) -> None:
        while not self._closed.is_set():
            try:
                connection = self._listener.accept()
            except (OSError, EOFError, AuthenticationError):  # a client without the key, or one that hung up
                continue
            if self._closed.is_set():
                connection.close()
                return
            threading.Thread(target=self._serve, args=(connection,), name="autotune-channel-reader",
                             daemon=True).start()

    def _serve(self, connection: Connection) -> None:
        with connection:
            while not self._closed.is_set():
                try:
                    if not connection.poll(_POLL_SECONDS):
                        continue
                    message = connection.recv()
                    connection.send_bytes(STOP if self._answer(*message) else CONTINUE)
                except (EOFError, OSError):  # the worker ended (or was killed)
                    return

    def _answer(self, trial_number: int, step: int | None = None, value: float | None = None) -> bool:
        if step is None:
            return self._on_start is not None and bool(self._on_start(trial_number))
        try:
            return bool(self._on_report(trial_number, step, value))
        except Exception:  # a broken subscriber must not cut the worker off: log it, let the trial go on
            log.exception("handling the report of trial %s (step %s) failed", trial_number, step)
            return False


class ReportClient:
    """A worker's side: one connection to one study, shared by the trials of the worker's threads
    (a Dask worker runs several at once), one message and answer at a time."""

    def __init__(self, endpoint: Endpoint):
        self._connection = Client(endpoint.address, authkey=endpoint.authkey)
        self._lock = threading.Lock()

    def report(self, trial_number: int, step: int, value: float) -> bool:
        """Send one intermediate result; True when the study wants the trial stopped."""
        return self._ask((trial_number, step, value))

    def may_start(self, trial_number: int) -> bool:
        """Ask the study before running a trial; False when it must not run (already ran, or canceled)."""
        return not self._ask((trial_number,))

    def _ask(self, message: tuple) -> bool:
        with self._lock:
            self._connection.send(message)
            return self._connection.recv_bytes() == STOP

    def close(self) -> None:
        self._connection.close()
