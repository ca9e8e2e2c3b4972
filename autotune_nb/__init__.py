"""autotune_nb: NNI's experiment model inside the notebook.

    import autotune_nb as at
    study = at.Study({"lr": at.loguniform(1e-4, 0.1)}, tuner="TPE", direction="maximize")
    study.run(train_and_score, max_trials=30)

In a notebook, ``%load_ext autotune_nb`` adds the ``%%autotune`` cell magic.
"""

from .errors import (
    AutotuneError,
    ConfigurationError,
    ExportFormatError,
    SearchSpaceError,
    StoreError,
    TrialStopped,
    UnsupportedSpaceError,
)
from .execution.context import report
from .space import (
    SearchSpace,
    choice,
    lognormal,
    loguniform,
    normal,
    qlognormal,
    qloguniform,
    qnormal,
    quniform,
    randint,
    uniform,
)
from .study import Study, TrialEvent
from .trial import Trial, TrialState

__version__ = "0.1.0"


def load_ipython_extension(ipython):
    """``%load_ext autotune_nb``."""
    from .notebook.extension import load_ipython_extension as load

    load(ipython)


def unload_ipython_extension(ipython):
    from .notebook.extension import unload_ipython_extension as unload

    unload(ipython)

__all__ = [
    "AutotuneError", "ConfigurationError", "ExportFormatError", "SearchSpaceError", "StoreError",
    "TrialStopped", "UnsupportedSpaceError", "SearchSpace", "Study", "Trial", "TrialEvent", "TrialState",
    "report", "choice", "randint", "uniform", "quniform", "loguniform", "qloguniform", "normal", "qnormal",
    "lognormal", "qlognormal",
]
