"""NNI's trial API, for NNI trial code brought as is: ``import nni`` in a trial finds this module.

While a trial runs (``%%autotune`` cell, or a function run by ``Study.run``, in any pool),
``sys.modules["nni"]`` is this module (``execution.context.nni_module``), so NNI trial code::

    import nni
    params = nni.get_next_parameter()
    ...
    nni.report_intermediate_result(accuracy)   # at.report: reaches the study and its assessor
    nni.report_final_result(accuracy)          # the trial's result

runs unchanged, whether or not the real ``nni`` package is installed. Outside trials
``import nni`` is the real package (or an ImportError): the entry is put back after each trial.

In a trial:

* ``get_next_parameter()`` (alias ``get_next_parameters``): the trial's parameters, a fresh dict
  (from ``--space``, ``at.*`` declarations or annotations: whatever the study's space is), plus, as
  NNI's Hyperband and PBT pass them, ``TRIAL_BUDGET`` where the tuner gives a budget and
  ``load_checkpoint_dir`` / ``save_checkpoint_dir`` where it gives a checkpoint folder (one folder,
  holding the parent's checkpoint when there is one: ``checkpoints.py``).
* ``report_intermediate_result(metric)``: ``at.report(metric)``: a number or a dict with a numeric
  ``"default"``; steps 1, 2, 3, ...; raises ``TrialStopped`` when the assessor stops the trial.
* ``report_final_result(metric)``: the trial's result (a number or ``{"default": number, ...}``), which
  wins over the function's return value (a cell's last expression). Once per trial: a second call
  raises ``AutotuneError`` naming the trial.
* ``get_experiment_id()``: the study's name; ``get_sequence_id()``: the trial number (an int);
  ``get_trial_id()``: the trial number as a string (NNI's trial ids are short strings; this one is
  unique within the study and stable across resumes: ``f"{experiment_id}/{trial_id}"`` is unique
  across studies of a store).

Outside a study (code run plainly) the calls behave as NNI's standalone mode: ``get_next_parameter``
warns (``RuntimeWarning``) and returns ``{}``; the reports print ``Intermediate result: x  (Index i)``
and ``Final result: x`` to stdout (NNI logs them there) and check nothing; the ids are ``"STANDALONE"``,
``"STANDALONE"`` and ``0``. Without the real package installed, ``from autotune_nb import nni_api as
nni`` gives the same calls in plain code and in trials alike.

``import nni`` must run inside the trial (in a cell, the cell's body is the trial): a module that
imported the real package before the study keeps it, and the real package runs standalone there.
``import nni.<submodule>`` inside a trial fails: this module is not a package.

The functions read the running trial each call, so a reference kept after a trial ended (a
module-level ``nni`` of the trial function's globals) serves the next trial, or standalone mode.
From a thread the trial started, the same rules as ``at.report`` apply (``execution/context.py``).
"""

from __future__ import annotations

import warnings
from typing import Any

from .directives import NNI_BUDGET, NNI_LOAD_CHECKPOINT, NNI_SAVE_CHECKPOINT
from .execution.context import TrialContext, _reporting_context

__all__ = [
    "get_next_parameter", "get_next_parameters", "report_intermediate_result", "report_final_result",
    "get_experiment_id", "get_trial_id", "get_sequence_id",
]

STANDALONE = "STANDALONE"
_standalone_index = 0  # the "Index" of standalone intermediate results, as NNI counts them


def _trial(call: str) -> TrialContext | None:
    return _reporting_context(f"nni.{call}")


def get_next_parameter() -> dict[str, Any]:
    """The running trial's parameters (a new dict each call); ``{}`` with a warning outside a study."""
    context = _trial("get_next_parameter")
    if context is None:
        warnings.warn("Running NNI code without a study (NNI's standalone mode): nni.get_next_parameter() "
                      "returns {}. Run the cell with %%autotune, or the function with Study.run, to tune it",
                      RuntimeWarning, stacklevel=2)
        return {}
    params = context.parameters()
    if context.budget is not None:
        params[NNI_BUDGET] = context.budget
    if context.checkpoint_dir is not None:
        params[NNI_LOAD_CHECKPOINT] = params[NNI_SAVE_CHECKPOINT] = context.checkpoint_dir
    return params


def get_next_parameters() -> dict[str, Any]:
    """Alias of ``get_next_parameter``, as in NNI."""
    return get_next_parameter()


def report_intermediate_result(metric: Any) -> None:
    """``at.report(metric)`` in a trial; prints the value outside a study."""
    global _standalone_index
    context = _trial("report_intermediate_result")
    if context is None:
        print(f"Intermediate result: {metric}  (Index {_standalone_index})")
        _standalone_index += 1
        return
    context.report(metric)


def report_final_result(metric: Any) -> None:
    """The trial's result, over its return value; once per trial. Prints the value outside a study."""
    context = _trial("report_final_result")
    if context is None:
        print(f"Final result: {metric}")
        return
    context.report_final(metric)


def get_experiment_id() -> str:
    """The study's name ("STANDALONE" outside a study; "" where a custom pool did not pass it)."""
    context = _trial("get_experiment_id")
    if context is None:
        return STANDALONE
    return context.experiment_id or ""


def get_trial_id() -> str:
    """The trial number as a string ("STANDALONE" outside a study)."""
    context = _trial("get_trial_id")
    return STANDALONE if context is None else str(context.trial_number)


def get_sequence_id() -> int:
    """The trial number (0 outside a study)."""
    context = _trial("get_sequence_id")
    return 0 if context is None else context.trial_number
