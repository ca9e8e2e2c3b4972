"""Trial functions for tests of budgets and checkpoints (module-level, so workers import them).

The ``curve_*`` functions train a synthetic learning curve ``q * (1 - 0.7 ** epoch)`` for ``at.budget``
epochs (5 without a budget), reporting every epoch, and return what they saw so a test can check
it: the budget as ``at.budget`` and as NNI's ``TRIAL_BUDGET``, the epoch they started from and how
many they ran. ``pbt_step`` is one PBT generation of a toy model (a score and its lineage).
"""

from __future__ import annotations

import json
import os

import autotune_nb as at

STATE_FILE = "state.json"


def _train(params: dict, *, save: bool) -> dict:
    import nni  # NNI's trial API, as NNI code reads its budget

    budget = at.budget
    epochs = int(budget) if budget is not None else 5
    folder = at.checkpoint_dir
    path = None if folder is None else os.path.join(folder, STATE_FILE)
    start = 0
    if path is not None and os.path.exists(path):
        with open(path) as file:
            start = json.load(file)["epoch"]
    value = 0.0
    for epoch in range(start + 1, epochs + 1):
        value = params["q"] * (1 - 0.7**epoch)
        at.report(value, step=epoch)
        if save and path is not None:
            with open(path, "w") as file:
                json.dump({"epoch": epoch}, file)
    given = nni.get_next_parameter()
    return {"default": value, "budget": budget, "nni_budget": given.get("TRIAL_BUDGET"),
            "start": start, "epochs_run": epochs - start, "checkpoint_dir": folder,
            "nni_checkpoint_dir": given.get("save_checkpoint_dir"), "param_keys": sorted(params)}


def curve_with_checkpoints(params: dict) -> dict:
    """Saves its epoch after each one and continues from a saved one."""
    return _train(params, save=True)


def curve_without_checkpoints(params: dict) -> dict:
    """Saves nothing: a promoted trial of it runs again from epoch 1."""
    return _train(params, save=False)


def pbt_step(params: dict) -> dict:
    """One PBT generation of a toy model: its score grows by ``q`` each generation. Loads the state in
    ``at.checkpoint_dir`` (a copy of the parent's), saves the new one with the trial's lineage."""
    import nni

    folder = at.checkpoint_dir
    path = os.path.join(folder, STATE_FILE)
    loaded = None
    if os.path.exists(path):
        with open(path) as file:
            loaded = json.load(file)
    state = {"score": (loaded or {"score": 0.0})["score"] + params["q"],
             "lineage": (loaded or {"lineage": []})["lineage"] + [nni.get_sequence_id()]}
    with open(path, "w") as file:
        json.dump(state, file)
    given = nni.get_next_parameter()
    return {"default": state["score"], "loaded": loaded, "nni_load": given["load_checkpoint_dir"],
            "nni_save": given["save_checkpoint_dir"]}
