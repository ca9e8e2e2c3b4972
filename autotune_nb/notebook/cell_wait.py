"""A blocking ``%%autotune`` cell that still hears its widgets.

While a cell runs, ipykernel's main thread is busy, so the messages a person's clicks send to the
kernel (``comm_msg`` on the shell channel) wait until the cell ends: a Stop button under a blocking
cell would act only once there is nothing left to stop. ``run_in_cell`` runs the study in a thread
and makes the cell's own thread wait, and while it waits it takes the shell messages that have
reached the main shell: widget messages are handled at once, as ipykernel 7 itself does for a cell
that awaits; every other request (the next cell, a completion) is kept and handed back to the
kernel, in the order it came, when the cell ends.

This reads one part of ipykernel 7 that is not public API (the main shell's inbound socket from the
shell-channel thread); on a kernel without it (IPython in a terminal, an older ipykernel) the run
stays in the cell's thread as before, and the dashboard says to interrupt the kernel instead.
"""

from __future__ import annotations

import asyncio
import contextvars
import threading
from typing import Any, Callable

WIDGET_MESSAGES = frozenset({"comm_open", "comm_msg", "comm_close"})
POLL_INTERVAL = 0.05  # seconds between two looks at the shell: a click acts within this


class WidgetMessagePump:
    """Handles the widget messages waiting for the kernel's main shell; keeps the others for later.
    Use from the kernel's main thread only (it owns the socket read)."""

    def __init__(self, kernel: Any, socket: Any):
        self._kernel = kernel
        self._socket = socket
        self._held: list[list] = []

    @classmethod
    def for_this_kernel(cls) -> "WidgetMessagePump | None":
        """The pump of the running ipykernel, or None where there is none to pump (see the module)."""
        try:
            from ipykernel.kernelbase import Kernel
        except ImportError:
            return None
        if not Kernel.initialized() or threading.current_thread() is not threading.main_thread():
            return None
        kernel = Kernel.instance()
        channel = getattr(kernel, "shell_channel_thread", None)
        pair_of = getattr(getattr(channel, "manager", None), "get_shell_channel_to_subshell_pair", None)
        if pair_of is None or not hasattr(kernel, "dispatch_shell"):
            return None
        return cls(kernel, pair_of(None).to_socket)

    def pump(self) -> None:
        """Handle every widget message that has arrived; keep the rest, in order."""
        while self._socket.poll(0):
            frames = self._socket.recv_multipart(copy=False)
            if self._message_type(frames) in WIDGET_MESSAGES:
                self._dispatch(frames)
            else:
                self._held.append(frames)

    def hand_back(self) -> None:
        """Give the kept requests to the kernel, in arrival order: each waits, as it would have, for
        the running cell to end."""
        held, self._held = self._held, []
        for frames in held:
            asyncio.ensure_future(self._kernel.shell_main(None, frames))

    def _message_type(self, frames: list) -> str | None:
        session = self._kernel.session
        try:
            _, parts = session.feed_identities(frames, copy=False)
            return session.deserialize(parts, content=False, copy=False)["header"]["msg_type"]
        except Exception:  # not a message we can read: the kernel's own handler reports it later
            return None

    def _dispatch(self, frames: list) -> None:
        """What ipykernel does for a widget message reaching a busy shell (a concurrent dispatch), then
        the cell's parent restored so its output stays under the cell."""
        kernel = self._kernel
        parent = kernel.get_parent("shell")
        ident = kernel._get_shell_context_var(kernel._shell_parent_ident)
        handling = kernel.dispatch_shell(frames, subshell_id=None, concurrent=True)
        try:
            handling.send(None)  # widget handlers are plain functions: it ends without suspending
        except StopIteration:
            pass
        else:  # it waits on the event loop, which this cell holds: it cannot end here
            handling.close()
            kernel.log.warning("autotune_nb: a widget message that waits on the event loop was dropped")
        finally:
            kernel.set_parent(ident, parent, channel="shell")


def widget_messages_heard() -> bool:
    """Whether a blocking cell here can handle widget clicks while it runs (``run_in_cell``)."""
    return WidgetMessagePump.for_this_kernel() is not None


def run_in_cell(run: Callable[[], None], on_interrupt: Callable[[], None]) -> None:
    """Call ``run`` and return when it has returned (raising what it raised), handling widget messages
    meanwhile. A kernel interrupt (KeyboardInterrupt) calls ``on_interrupt`` (the study's stop) and
    waits on for the run's end; a second one leaves the run to end in its thread."""
    pump = WidgetMessagePump.for_this_kernel()
    if pump is None:
        run()
        return
    raised: list[BaseException] = []
    # An Event, not Thread.join: a KeyboardInterrupt inside join() can leave the thread marked ended
    # while it still runs (CPython 3.11), and the cell would go on before the study has ended.
    ended = threading.Event()

    def run_and_keep_error() -> None:
        try:
            run()
        except BaseException as exc:  # raised again in the cell's thread
            raised.append(exc)
        finally:
            ended.set()

    # The run's thread sees the cell's context: what it prints goes under this cell.
    threading.Thread(target=contextvars.copy_context().run, args=(run_and_keep_error,), name="autotune-cell",
                     daemon=True).start()
    try:
        try:
            _wait(ended, pump)
        except KeyboardInterrupt:
            on_interrupt()
            _wait(ended, pump)
    finally:
        pump.pump()
        pump.hand_back()
    if raised:
        raise raised[0]


def _wait(ended: threading.Event, pump: WidgetMessagePump) -> None:
    while not ended.is_set():
        pump.pump()
        ended.wait(POLL_INTERVAL)
