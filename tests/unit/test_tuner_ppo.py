"""PPOTuner: its types, its classArgs, and a policy that learns which decisions pay."""

from __future__ import annotations

import numpy as np
import pytest

from autotune_nb.errors import ConfigurationError, UnsupportedSpaceError
from autotune_nb.testing.tuner_contract import NAS_SPACE, finished, nas_objective, run_sequential
from autotune_nb.tuners import create_tuner


def ppo(space=NAS_SPACE, seed: int = 0, **class_args):
    return create_tuner("PPOTuner", space, optimize_mode="minimize", seed=seed, **class_args)


def test_numeric_types_are_refused_when_created():
    with pytest.raises(UnsupportedSpaceError, match="PPOTuner cannot search 'lr' of type loguniform: it supports "
                                                    "choice, input_choice, layer_choice"):
        ppo({**NAS_SPACE, "lr": {"_type": "loguniform", "_value": [1e-4, 1e-1]}})


@pytest.mark.parametrize("args, message", [
    ({"trials_per_update": 0}, "trials_per_update must be an integer >= 1, got 0"),
    ({"epochs_per_update": 1.5}, "epochs_per_update must be an integer >= 1, got 1.5"),
    ({"minibatch_size": -1}, "minibatch_size must be an integer >= 1, got -1"),
    ({"ent_coef": -0.1}, "ent_coef must be a finite number >= 0.0, got -0.1"),
    ({"lr": 0}, "lr must be a finite number > 0, got 0"),
    ({"vf_coef": float("nan")}, "vf_coef must be a finite number >= 0.0, got nan"),
    ({"max_grad_norm": 0}, "max_grad_norm must be a finite number > 0, got 0"),
    ({"gamma": 1.5}, r"gamma must be a finite number >= 0.0 and <= 1.0, got 1.5"),
    ({"lam": "0.9"}, "lam must be a finite number >= 0.0 and <= 1.0, got '0.9'"),
    ({"cliprange": 0}, "cliprange must be a finite number > 0, got 0"),
    ({"nsteps": 10}, "unknown classArg 'nsteps'"),
])
def test_bad_class_args_are_refused_naming_the_rule(args, message):
    with pytest.raises(ConfigurationError, match=message):
        ppo(**args)


def test_nested_choices_are_decided_branch_by_branch():
    nested = {"cell": {"_type": "choice", "_value": [
        {"_name": "conv", "kernel": {"_type": "choice", "_value": [3, 5]}},
        {"_name": "pool", "kind": {"_type": "layer_choice", "_value": ["max", "avg"]}},
    ]}}
    tuner = ppo(nested, trials_per_update=2)
    values = run_sequential(tuner, lambda p: 0.0 if p["cell"] == {"_name": "pool", "kind": "avg"} else 1.0, 4)
    assert sorted(values) == [0.0, 1.0, 1.0, 1.0]  # the four cells, none twice


def test_the_policy_learns_the_decisions_that_pay():
    """After 80 trials the policy draws the best operation far more often than its 1 in 4."""
    tuner = ppo(seed=1)
    run_sequential(tuner, nas_objective, 80)
    rollouts = [tuner._rollout()[0] for _ in range(200)]
    assert np.mean([config["op"] == "sepconv" for config in rollouts]) > 0.5


def test_trials_it_did_not_propose_train_it_too():
    tuner = ppo(trials_per_update=5)
    rng = np.random.default_rng(0)
    for number in range(5):
        params = tuner.space.sample(rng)
        tuner.observe(finished(number, params, nas_objective(params)))
    assert any(np.any(weight != 0) for weight in tuner._weights)
