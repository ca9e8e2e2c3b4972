"""Trials that are a command (NNI's ``trialCommand``): a subprocess per trial, run from a worker slot.

``CommandTrial`` is the trial function of an NNI experiment folder. The pool runs it like any trial
function, in a worker slot, so concurrency, GPU slots, assessors, timeouts and cancel work as for
cells. In the worker it starts the command as a subprocess and relays for it:

* **where**: ``sh -c COMMAND`` in the code folder, in a new session (its own process group), with the
  worker's environment (the slot's ``CUDA_VISIBLE_DEVICES`` and thread caps), plus NNI's trial
  variables (``NNI_PLATFORM=local``, ``NNI_EXP_ID``, ``NNI_TRIAL_JOB_ID``, ``NNI_TRIAL_SEQ_ID``,
  ``NNI_SYS_DIR`` and ``NNI_OUTPUT_DIR``: the trial's folder ``<study folder>/trials/<n>``). The
  Python running this one comes first on ``PATH``, so ``python3 mnist.py`` runs with it.
* **``import nni``**: ``PYTHONPATH`` starts with a folder holding a package ``nni`` (``write_shim``),
  so the command's ``import nni`` finds it before any installed NNI. It attaches the process to its
  trial (``attach_trial``) and then is ``autotune_nb.nni_api``.
* **the protocol**: the worker listens on 127.0.0.1 (a random port and key, in the variable
  ``AUTOTUNE_NB_TRIAL_CHANNEL``). The command's process asks ``("hello",)`` and gets its trial
  number, parameters, study name, budget and checkpoint folder; it sends ``("report", step, value)``
  and ``("final", value)`` and waits for ``("ok", stop)`` or ``("error", message)``. The worker
  hands each to its own trial context, which carries it to the study over the pool's report
  channel: the assessor answers at once, and a stop ends the process group.
* **its end**: exit 0 with a final result: the result; exit 0 without one, a non-zero exit or a
  signal: ``CommandFailed`` with the status and the last lines of the output; an early stop:
  ``TrialStopped``. Whatever the end, what is left of the process group is killed.
* **its output**: stdout and stderr go to ``trial.log`` in the trial's folder (``log_path``).

A trial the study ends from outside (timeout, Stop, Ctrl-C) may lose its worker at once (the local
pool kills it), so the worker cannot be relied on to end the group: the study side does, from the
process-group id the worker writes next to the log (``end_trial_group``, called by the study's
subscriber in ``nni_experiment.py``).

A study process killed with SIGKILL (a killed kernel, ``kill -9``) runs no code at all, and neither
does a worker killed with it: the group ends itself. Its first member (``sh -c LAUNCHER``, the
session leader, which then becomes ``sh -c COMMAND``) forks a **watchdog** into the group before it
runs the command: a shell blocked reading a pipe whose only writer is the process running this
trial. Whenever that process ends (a local worker exits within a second of its study's death,
``worker.initialize_worker``; or it is killed itself), the read sees end-of-file and the watchdog
kills its own group, grandchildren included. (``PR_SET_PDEATHSIG`` would reach the first child only.)
A process that leaves the group itself (``setsid``) is not followed.
"""

from __future__ import annotations

import dataclasses
import os
import secrets
import signal
import subprocess
import sys
import threading
from multiprocessing.connection import Client, Connection, Listener
from typing import Any, Mapping

from ..errors import AutotuneError, TrialFailure, TrialStopped
from .context import TrialContext, active, current, dedicate_process

LOG_NAME = "trial.log"
GROUP_FILE_NAME = "process_group"
CHANNEL_VARIABLE = "AUTOTUNE_NB_TRIAL_CHANNEL"
#: Lines of a failed command's output kept in its trial's error (the whole output is in its log).
TAIL_LINES = 20
#: Seconds an early-stopped command gets to end after SIGTERM before its group gets SIGKILL.
STOP_GRACE_SECONDS = 5.0

#: ``sh -c LAUNCHER autotune-trial COMMAND``, stdin the watchdog's pipe: fork the watchdog into this new
#: group, then become ``sh -c COMMAND`` (same pid, so the group id and exit status are the command's).
#: The watchdog ignores the early stop's SIGTERM (it must outlive the grace time) and terminal signals,
#: waits for end-of-file on the pipe, then kills the whole group (``kill 0``), itself included.
LAUNCHER = """exec 3<&0 </dev/null
(trap '' TERM INT HUP; read line <&3; kill -KILL 0) &
exec 3<&- /bin/sh -c "$1"
"""

_PACKAGE_PARENT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
_SHIM = '''"""NNI's trial API for a trial command run by autotune_nb (written by autotune_nb.execution.command_trial)."""
import sys

from autotune_nb.execution.command_trial import attach_trial

attach_trial()
import autotune_nb.nni_api

sys.modules[__name__] = autotune_nb.nni_api
'''


class CommandFailed(TrialFailure):
    """A trial command that ended without a result (its exit status, the last lines of its output)."""


def trial_folder(study_folder: str, number: int) -> str:
    """NNI_SYS_DIR and NNI_OUTPUT_DIR of trial ``number``: ``<study folder>/trials/<number>``."""
    return os.path.join(study_folder, "trials", str(number))


def log_path(study_folder: str, number: int) -> str:
    """The file that holds trial ``number``'s stdout and stderr."""
    return os.path.join(trial_folder(study_folder, number), LOG_NAME)


def output_tail(path: str, lines: int = TAIL_LINES) -> str:
    """The last ``lines`` lines of a log file ("" when there is none)."""
    try:
        with open(path, "rb") as file:
            file.seek(0, os.SEEK_END)
            file.seek(max(0, file.tell() - 200 * lines))
            text = file.read().decode("utf-8", errors="replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])


def write_shim(folder: str) -> str:
    """Write the ``nni`` package a command imports into ``folder``; returns the folder to put on PYTHONPATH."""
    package = os.path.join(folder, "nni")
    os.makedirs(package, exist_ok=True)
    with open(os.path.join(package, "__init__.py"), "w", encoding="utf-8") as file:
        file.write(_SHIM)
    return folder


def end_trial_group(study_folder: str, number: int) -> None:
    """Kill what is left of trial ``number``'s process group (SIGKILL); nothing when it has ended."""
    path = os.path.join(trial_folder(study_folder, number), GROUP_FILE_NAME)
    try:
        with open(path, encoding="ascii") as file:
            group = int(file.read().strip())
    except (OSError, ValueError):
        return
    _signal_group(group, signal.SIGKILL)


def _signal_group(group: int, signum: int) -> None:
    try:
        os.killpg(group, signum)
    except (ProcessLookupError, PermissionError):  # the group has ended
        pass


@dataclasses.dataclass(frozen=True)
class CommandTrial:
    """The trial function of an experiment whose trial is ``command``, run in ``code_dir``.

    ``study_folder`` holds the trials' folders; ``shim_dir`` the ``nni`` package (``write_shim``).
    Called in a worker with a trial's parameters (and the worker's trial context), it runs the
    command to its end and returns nothing: the result is the one the command reported.
    """

    command: str
    code_dir: str
    study_folder: str
    shim_dir: str

    def __call__(self, params: Mapping[str, Any]) -> None:
        context = current()
        if context is None:
            raise AutotuneError(f"the trial command {self.command!r} runs in a study's trial, not on its own")
        folder = trial_folder(self.study_folder, context.trial_number)
        os.makedirs(folder, exist_ok=True)
        relay = _Relay(context)
        watched, lifeline = os.pipe()  # this process holds the only writer, for the trial's length
        try:
            try:
                with open(os.path.join(folder, LOG_NAME), "wb") as log:
                    process = subprocess.Popen(["/bin/sh", "-c", LAUNCHER, "autotune-trial", self.command],
                                               cwd=self.code_dir, stdin=watched, stdout=log, stderr=subprocess.STDOUT,
                                               start_new_session=True, env=self._environment(context, folder, relay))
            finally:
                os.close(watched)
            relay.on_stop = lambda: self._stop(process)
            group_file = os.path.join(folder, GROUP_FILE_NAME)
            with open(group_file, "w", encoding="ascii") as file:
                file.write(str(process.pid))
            try:
                status = process.wait()
            finally:
                _signal_group(process.pid, signal.SIGKILL)  # leftovers (grandchildren) end with their trial
                os.remove(group_file)
        finally:
            relay.close()
            os.close(lifeline)
        if relay.stopped:
            raise TrialStopped(f"trial {context.trial_number} stopped early by the assessor at step {context.step}")
        self._check_end(status, context, os.path.join(folder, LOG_NAME))

    def _environment(self, context: TrialContext, folder: str, relay: "_Relay") -> dict[str, str]:
        env = dict(os.environ)
        python_path = [self.shim_dir, _PACKAGE_PARENT, *filter(None, [env.get("PYTHONPATH")])]
        env.update({
            "NNI_PLATFORM": "local", "NNI_EXP_ID": context.experiment_id or "",
            "NNI_TRIAL_JOB_ID": str(context.trial_number), "NNI_TRIAL_SEQ_ID": str(context.trial_number),
            "NNI_SYS_DIR": folder, "NNI_OUTPUT_DIR": folder,
            "PYTHONPATH": os.pathsep.join(python_path), "PYTHONUNBUFFERED": "1",
            "PATH": os.pathsep.join([os.path.dirname(sys.executable), env.get("PATH", os.defpath)]),
            CHANNEL_VARIABLE: relay.address,
        })
        return env

    @staticmethod
    def _stop(process: subprocess.Popen) -> None:
        """An early stop: SIGTERM to the group, SIGKILL when the command has not ended in the grace time."""
        _signal_group(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=STOP_GRACE_SECONDS)
        except subprocess.TimeoutExpired:
            _signal_group(process.pid, signal.SIGKILL)

    def _check_end(self, status: int, context: TrialContext, log: str) -> None:
        if status == 0 and context.final_reported:
            return
        if status == 0:
            reason = "no final result reported: the command exited with status 0 without calling nni.report_final_result"
        elif status < 0:
            reason = f"the command was ended by signal {_signal_name(-status)}"
        else:
            reason = f"the command exited with status {status}"
        tail = output_tail(log)
        details = f"{reason}\n$ {self.command}   (in {self.code_dir})\n"
        details += f"--- last lines of {log} ---\n{tail}" if tail else f"(no output; log: {log})"
        raise CommandFailed(reason, details)


def _signal_name(number: int) -> str:
    try:
        return f"{signal.Signals(number).name} ({number})"
    except ValueError:
        return str(number)


class _Relay:
    """The worker's side of the protocol: answers the command's processes from the trial's context."""

    def __init__(self, context: TrialContext):
        self.context = context
        self.stopped = False
        self.on_stop = lambda: None
        authkey = secrets.token_bytes(32)
        self._listener = Listener(("127.0.0.1", 0), authkey=authkey)
        host, port = self._listener.address
        self.address = f"{host}:{port}:{authkey.hex()}"
        self._closed = threading.Event()
        threading.Thread(target=self._accept, name="autotune-command-relay", daemon=True).start()

    def close(self) -> None:
        self._closed.set()
        host, port, key = self.address.split(":")
        try:  # wake accept()
            Client((host, int(port)), authkey=bytes.fromhex(key)).close()
        except OSError:
            pass
        self._listener.close()

    def _accept(self) -> None:
        while not self._closed.is_set():
            try:
                connection = self._listener.accept()
            except Exception:  # a client without the key, one that hung up, or the listener closed
                if self._closed.is_set():
                    return
                continue
            threading.Thread(target=self._serve, args=(connection,), name="autotune-command-reader",
                             daemon=True).start()

    def _serve(self, connection: Connection) -> None:
        with connection:
            while True:
                try:
                    message = connection.recv()
                except (EOFError, OSError):
                    return
                connection.send(self._answer(message))

    def _answer(self, message: tuple) -> tuple:
        context = self.context
        kind, *values = message
        if kind == "hello":
            return ("ok", {"trial_number": context.trial_number, "params": context.parameters(),
                           "experiment_id": context.experiment_id, "budget": context.budget,
                           "checkpoint_dir": context.checkpoint_dir})
        try:
            if kind == "report":
                step, value = values
                context.report(value, step)
            elif kind == "final":
                context.report_final(values[0])
            else:
                return ("error", f"unknown message {kind!r}")
        except TrialStopped:
            self.stopped = True
            threading.Thread(target=self.on_stop, name="autotune-command-stop", daemon=True).start()
            return ("ok", True)
        except AutotuneError as exc:
            return ("error", str(exc))
        return ("ok", False)


class _RemoteContext(TrialContext):
    """The command process's trial context: reports and the final result go to its worker's relay."""

    def __init__(self, connection: Connection, hello: dict):
        self._connection = connection
        self._ask_lock = threading.Lock()
        super().__init__(hello["trial_number"], self._send_report, hello["params"], hello["experiment_id"],
                         hello["budget"], hello["checkpoint_dir"])

    def _ask(self, message: tuple) -> Any:
        with self._ask_lock:
            self._connection.send(message)
            status, answer = self._connection.recv()
        if status != "ok":
            raise AutotuneError(answer)
        return answer

    def _send_report(self, trial_number: int, step: int, value: float) -> bool:
        return self._ask(("report", step, value))

    def report_final(self, value: Any) -> None:
        super().report_final(value)  # the rules (a number or NNI's dict, once) are checked here first
        self._ask(("final", value))


_attached: list = []  # the command process's trial context, held for the process's life


def attach_trial() -> None:
    """In a trial command's process: connect to the worker that runs it, and make its trial the one
    ``autotune_nb.nni_api`` serves (any thread of the process). Without ``AUTOTUNE_NB_TRIAL_CHANNEL``
    (the program run plainly) nothing happens: the API is NNI's standalone mode."""
    address = os.environ.get(CHANNEL_VARIABLE)
    if not address or _attached:
        return
    host, port, key = address.split(":")
    try:
        connection = Client((host, int(port)), authkey=bytes.fromhex(key))
    except OSError as exc:
        raise AutotuneError(f"this trial command cannot reach the autotune_nb worker that runs it at "
                            f"{host}:{port} ({exc}); was it started by its study?") from None
    connection.send(("hello",))
    _, hello = connection.recv()
    context = _RemoteContext(connection, hello)
    dedicate_process()
    scope = active(context)
    scope.__enter__()  # for the process's life: it runs this one trial
    _attached.append((context, scope))
