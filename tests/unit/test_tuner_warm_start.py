"""Warm start (tuners/warm_start.py): which trials of another study a tuner over a new space learns from."""

from __future__ import annotations

from autotune_nb.space import SearchSpace
from autotune_nb.testing.store_contract import running_trial, succeeded
from autotune_nb.trial import TrialState
from autotune_nb.tuners import warm_start_trials


def test_warm_start_keeps_finished_trials_that_fit_the_new_space():
    space = SearchSpace({"lr": {"_type": "loguniform", "_value": [1e-3, 0.1]},
                         "model": {"_type": "choice", "_value": [{"_name": "linear"}]}})
    outside = succeeded(3, 0.1).replace(params={"lr": 0.5, "model": {"_name": "linear"}})
    inside = succeeded(0, 0.9)
    failed = running_trial(1).replace(state=TrialState.FAILED)
    usable = warm_start_trials([inside, failed, running_trial(2), outside], space)
    assert usable == [inside, failed]
