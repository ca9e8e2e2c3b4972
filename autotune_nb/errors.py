"""One exception family for everything autotune_nb raises on purpose.

Every message names the offending value, the rule it broke and, where there is one, the fix.
"""


class AutotuneError(Exception):
    """Base class of every error autotune_nb raises on purpose."""


class SearchSpaceError(AutotuneError, ValueError):
    """A search space (NNI JSON or Python declarations) breaks a rule."""


class ConfigurationError(AutotuneError, ValueError):
    """A study, tuner or assessor setting is invalid (unknown name, bad classArg, ...)."""


class UnsupportedSpaceError(ConfigurationError):
    """A tuner or assessor cannot handle some parameter type of the search space."""


class TrialStopped(AutotuneError):
    """Raised inside a trial by ``report`` when the study decided to stop it early.

    Trial code should let it propagate; the trial then ends EARLY_STOPPED.
    """


class TrialFailure(AutotuneError):
    """A trial's failure told in words rather than by a traceback (a trial command's exit status and
    output): ``reason`` is the trial's one-line reason, ``details`` its error text."""

    def __init__(self, reason: str, details: str):
        super().__init__(reason)
        self.reason = reason
        self.details = details


class ReportFromThreadError(AutotuneError, RuntimeError):
    """``at.report`` was called from a thread whose trial cannot be told (a thread left over from an
    earlier trial, or any thread under a pool that runs several trials in one process)."""


class StoreError(AutotuneError):
    """The SQLite store cannot be read or written, or a named study is not in it."""


class StudyBusyError(StoreError):
    """The study is being run by another live process (or another run of this one)."""


class ExportFormatError(AutotuneError, ValueError):
    """A study JSON document is malformed or of an unsupported format version."""


class CaptureError(AutotuneError):
    """A notebook variable the trial reads cannot be sent to the worker processes."""


class NniConfigWarning(UserWarning):
    """A field of an NNI experiment config that autotune_nb reads but cannot honour (a remote training
    service, nniManagerIp, ...): the warning names the field and what happens instead."""
