"""autotune_nb: NNI's experiment model inside the notebook.

    import autotune_nb as at
    study = at.Study({"lr": at.loguniform(1e-4, 0.1)}, tuner="TPE", direction="maximize")
    study.run(train_and_score, max_trials=30)

In a notebook, ``%load_ext autotune_nb`` adds the ``%%autotune`` cell magic, and
``at.dashboard(study)`` shows a study's live dashboard.

Only what trial code needs (``report``, the errors) is imported eagerly: worker processes import
this package before every study, and the engine (scipy, hyperopt) would add ~0.4 s to each start.
The rest is imported on first use (PEP 562).
"""

from __future__ import annotations

import importlib
from typing import Any

from .errors import (
    AutotuneError,
    CaptureError,
    ConfigurationError,
    ExportFormatError,
    NniConfigWarning,
    ReportFromThreadError,
    SearchSpaceError,
    StoreError,
    StudyBusyError,
    TrialStopped,
    UnsupportedSpaceError,
)
from ._version import __version__
from .execution.context import report
from .trial import Trial, TrialState

_DISTRIBUTIONS = ("choice", "randint", "uniform", "quniform", "loguniform", "qloguniform", "normal", "qnormal",
                  "lognormal", "qlognormal", "layer_choice", "input_choice")
_LAZY = {
    **{name: "autotune_nb.space" for name in (*_DISTRIBUTIONS, "SearchSpace")},
    "Study": "autotune_nb.study",
    "TrialEvent": "autotune_nb.study",
    "LocalPool": "autotune_nb.execution.pool",
    "DaskPool": "autotune_nb.execution.dask_pool",
    "read_nni_config": "autotune_nb.nni_config",
    "run_nni_experiment": "autotune_nb.nni_experiment",
    "compare": "autotune_nb.compare_studies",
    "importance": "autotune_nb.views.importance",
    # The notebook layer (ipywidgets, bqplot): the engine never imports it, only this name and the
    # extension hooks below reach it.
    "dashboard": "autotune_nb.notebook.dashboard",
}

__all__ = [
    "__version__", "AutotuneError", "CaptureError", "ConfigurationError", "ExportFormatError",
    "NniConfigWarning", "ReportFromThreadError", "SearchSpaceError", "StoreError", "StudyBusyError", "TrialStopped",
    "UnsupportedSpaceError", "Trial", "TrialState", "report", *_LAZY,
]


#: Read afresh on every access: the running trial's directives (``execution.context.trial_directive``).
_PER_TRIAL = ("budget", "checkpoint_dir")


def __getattr__(name: str) -> Any:
    if name in _PER_TRIAL:
        from .execution.context import trial_directive

        return trial_directive(name)
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'autotune_nb' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY) | set(_PER_TRIAL))


def load_ipython_extension(ipython) -> None:
    """``%load_ext autotune_nb``."""
    from .notebook.extension import load_ipython_extension as load

    load(ipython)


def unload_ipython_extension(ipython) -> None:
    from .notebook.extension import unload_ipython_extension as unload

    unload(ipython)
