"""The contract every tuner keeps. tests/unit/test_tuner_contracts.py runs it on every tuner the
registry ships; for another tuner or a variant (other classArgs), subclass ``TunerContract`` in a test
module, set ``tuner_name`` (and ``class_args``, ``space_spec`` where the tuner needs them) and pytest
runs the whole suite.

Example:
    class TestRandom(TunerContract):
        tuner_name = "Random"
"""

from __future__ import annotations

import math
from typing import Any, Callable

import numpy as np
import pytest

from ..errors import ConfigurationError
from ..space import SearchSpace
from ..trial import Trial, TrialState
from ..tuners import create_tuner
from ..tuners.base import config_key

MIXED_SPACE = {
    "x": {"_type": "uniform", "_value": [-5, 5]},
    "lr": {"_type": "loguniform", "_value": [1e-4, 1e-1]},
    "units": {"_type": "quniform", "_value": [16, 256, 16]},
    "depth": {"_type": "randint", "_value": [1, 6]},
    "act": {"_type": "choice", "_value": ["relu", "tanh", "sigmoid"]},
}

#: A space GridSearch can walk (q-types, randint and choices only), with a grid of 4,800 points.
GRID_SPACE = {
    "x": {"_type": "quniform", "_value": [-5, 5, 2.5]},
    "lr": {"_type": "choice", "_value": [1e-4, 1e-3, 1e-2, 1e-1]},
    "units": {"_type": "qloguniform", "_value": [16, 256, 16]},
    "depth": {"_type": "randint", "_value": [1, 6]},
    "act": {"_type": "choice", "_value": ["relu", "tanh", "sigmoid"]},
}
#: MIXED_SPACE in the types Metis searches (NNI's: choice, randint, uniform, quniform).
METIS_SPACE = {**MIXED_SPACE, "lr": {"_type": "uniform", "_value": [1e-4, 1e-1]}}
#: A space of categorical decisions only (PPO's), NNI's classic NAS types among them.
NAS_SPACE = {
    "op": {"_type": "layer_choice", "_value": ["conv3", "conv5", "sepconv", "pool"]},
    "inputs": {"_type": "input_choice", "_value": {"candidates": ["in0", "in1", "node0", "node1"], "n_chosen": 2}},
    "act": {"_type": "choice", "_value": ["relu", "tanh", "sigmoid"]},
    "width": {"_type": "choice", "_value": [16, 32, 64, 128]},
}
#: Batch's form of a space: one choice whose options are whole configurations, here 20 of MIXED_SPACE.
BATCH_CONFIGS = [SearchSpace(MIXED_SPACE).sample(np.random.default_rng(i)) for i in range(20)]
BATCH_SPACE = {"params": {"_type": "choice", "_value": BATCH_CONFIGS}}


def mixed_objective(params: dict[str, Any]) -> float:
    """A cheap function of MIXED_SPACE, minimum 0 at x=1, lr=1e-2, units=128, depth=3, act=tanh."""
    return (
        (params["x"] - 1) ** 2
        + (math.log10(params["lr"]) + 2) ** 2
        + ((params["units"] - 128) / 64) ** 2
        + (params["depth"] - 3) ** 2 / 4
        + (0.0 if params["act"] == "tanh" else 1.0)
    )


def nas_objective(params: dict[str, Any]) -> float:
    """A cheap function of NAS_SPACE with interactions, minimum 0 at sepconv on node0+node1, tanh, 64."""
    return (
        (0.0 if params["op"] == "sepconv" else 1.0)
        + (2 - sum(name.startswith("node") for name in params["inputs"])) * (1.5 if params["op"] == "pool" else 1.0)
        + (0.0 if params["act"] == "tanh" else 0.5)
        + abs(math.log2(params["width"]) - 6) / 2
    )


def finished(number: int, params: dict, value: float | None, state: TrialState = TrialState.SUCCEEDED,
             intermediates: tuple = ()) -> Trial:
    return Trial(number=number, params=params, state=state, value=value, intermediates=intermediates)


def run_sequential(tuner, objective: Callable[[dict], float], n_trials: int) -> list[float]:
    """Ask one, evaluate, tell; returns the objective values in order."""
    values = []
    for number in range(n_trials):
        suggestions = tuner.suggest(1)
        if not suggestions:
            break
        value = objective(suggestions[0])
        tuner.observe(finished(number, suggestions[0], value))
        values.append(value)
    return values


class TunerContract:
    tuner_name: str = ""
    class_args: dict[str, Any] = {}
    space_spec: dict[str, Any] = MIXED_SPACE
    n_trials: int = 25

    def make_tuner(self, seed: int = 0, optimize_mode: str = "minimize"):
        return create_tuner(self.tuner_name, self.space_spec, optimize_mode=optimize_mode, seed=seed,
                            **self.class_args)

    def objective(self, params: dict[str, Any]) -> float:
        return mixed_objective(params)

    def test_suggestions_are_legal_values(self):
        # tuner.space, not SearchSpace(space_spec): Batch's space_spec is not a space of values.
        tuner = self.make_tuner()
        for number in range(self.n_trials):
            suggestions = tuner.suggest(1)
            if not suggestions:
                break
            assert tuner.space.contains(suggestions[0]), suggestions[0]
            tuner.observe(finished(number, suggestions[0], self.objective(suggestions[0])))

    def test_same_seed_same_sequence(self):
        first = run_sequential(self.make_tuner(seed=7), self.objective, self.n_trials)
        second = run_sequential(self.make_tuner(seed=7), self.objective, self.n_trials)
        assert first == second
        assert len(first) > 0

    def test_pending_configurations_are_not_proposed_twice(self):
        tuner = self.make_tuner()
        run_sequential(tuner, self.objective, min(10, self.n_trials))
        batch = tuner.suggest(4)
        keys = [config_key(c) for c in batch]
        assert len(set(keys)) == len(keys), batch
        later = tuner.suggest(4)
        assert not set(keys) & {config_key(c) for c in later}

    def test_observes_failed_early_stopped_and_canceled_trials(self):
        tuner = self.make_tuner()
        configs = tuner.suggest(4)
        states = [TrialState.FAILED, TrialState.EARLY_STOPPED, TrialState.CANCELED, TrialState.TIMEOUT]
        for number, (config, state) in enumerate(zip(configs, states)):
            intermediates = ((1, 3.0),) if state == TrialState.EARLY_STOPPED else ()
            tuner.observe(finished(number, config, None, state, intermediates))
        nxt = tuner.suggest(1)
        assert nxt and tuner.space.contains(nxt[0])

    def test_maximize_is_minimize_of_the_negation(self):
        low = run_sequential(self.make_tuner(seed=3, optimize_mode="minimize"), self.objective, self.n_trials)
        high = run_sequential(self.make_tuner(seed=3, optimize_mode="maximize"),
                              lambda p: -self.objective(p), self.n_trials)
        assert np.allclose(low, [-v for v in high])

    def test_class_args_may_repeat_the_study_direction(self):
        """NNI configs repeat optimize_mode in classArgs: the study's own is the same tuner, another
        is refused."""
        class_args = {**self.class_args, "optimize_mode": "minimize"}
        repeated = create_tuner(self.tuner_name, self.space_spec, optimize_mode="minimize", seed=7,
                                class_args=class_args)
        assert run_sequential(repeated, self.objective, self.n_trials) == run_sequential(
            self.make_tuner(seed=7), self.objective, self.n_trials)
        with pytest.raises(ConfigurationError, match="optimize_mode='minimize' conflicts with the study's "
                                                     "direction 'maximize'"):
            create_tuner(self.tuner_name, self.space_spec, optimize_mode="maximize", class_args=class_args)

    def test_trials_it_did_not_suggest_are_observed(self):
        """A resumed or warm-started study tells the tuner of trials it never suggested, before it
        suggests anything."""
        tuner = self.make_tuner()
        rng = np.random.default_rng(0)
        for number in range(30):
            params = tuner.space.sample(rng)
            tuner.observe(finished(number, params, self.objective(params)))
        [config] = tuner.suggest(1)
        assert tuner.space.contains(config)

    def test_directives_belong_to_suggestions_and_come_back_with_the_trials(self):
        """``directives(config)`` of each suggestion is None or a ``Directives``; observing the trials
        with them (as a study does) keeps the tuner suggesting; a configuration it never suggested has none."""
        from ..directives import Directives

        tuner = self.make_tuner()
        for number in range(self.n_trials):
            suggestions = tuner.suggest(1)
            if not suggestions:
                break
            directives = tuner.directives(suggestions[0])
            assert directives is None or isinstance(directives, Directives)
            assert directives is None or directives.budget is None or directives.budget > 0
            trial = finished(number, suggestions[0], self.objective(suggestions[0]))
            tuner.observe(trial.replace(directives=directives))
        stranger = tuner.space.sample(np.random.default_rng(12345))
        assert tuner.directives(stranger) is None
