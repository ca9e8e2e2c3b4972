"""Importance (PED-ANOVA) on functions whose important parameters are known: 2 of 6 matter."""

from __future__ import annotations

import math

import numpy as np
import pytest

from autotune_nb.config import StudyConfig
from autotune_nb.space import SearchSpace
from autotune_nb.trial import Trial, TrialState
from autotune_nb.views import importance as imp

SPACE = SearchSpace({
    "lr": {"_type": "loguniform", "_value": [1e-5, 1.0]},
    "act": {"_type": "choice", "_value": ["relu", "tanh", "gelu", "silu"]},
    "dropout": {"_type": "uniform", "_value": [0.0, 0.5]},
    "units": {"_type": "quniform", "_value": [16, 256, 16]},
    "layers": {"_type": "randint", "_value": [1, 6]},
    "momentum": {"_type": "normal", "_value": [0.9, 0.05]},
})


def loss(params: dict) -> float:
    """Only ``lr`` (best near 1e-3, on a log axis) and ``act`` (gelu best) matter."""
    return (math.log10(params["lr"]) + 3) ** 2 + {"relu": 1.0, "tanh": 3.0, "gelu": 0.0, "silu": 2.0}[params["act"]]


def random_trials(n: int, seed: int = 0, sign: float = 1.0) -> list[Trial]:
    rng = np.random.default_rng(seed)
    trials = []
    for number in range(n):
        params = SPACE.sample(rng)
        trials.append(Trial(number=number, params=params, state=TrialState.SUCCEEDED, value=sign * loss(params)))
    return trials


@pytest.mark.parametrize("direction, sign", [("minimize", 1.0), ("maximize", -1.0)])
def test_the_two_parameters_that_matter_come_out_on_top(direction, sign):
    scores = imp.importance_of_trials(random_trials(500, sign=sign), direction, SPACE)
    assert set(scores.names[:2]) == {"lr", "act"}, scores
    assert math.isclose(sum(scores.scores), 1.0)
    assert min(scores.scores[:2]) > 3 * max(scores.scores[2:])
    assert scores.trials == 500


def test_a_nested_dimension_is_scored_over_the_trials_that_took_its_branch():
    space = SearchSpace({
        "opt": {"_type": "choice", "_value": [{"_name": "sgd", "lr": {"_type": "loguniform", "_value": [1e-4, 1]}},
                                               {"_name": "adam"}]},
        "noise": {"_type": "uniform", "_value": [0, 1]},
    })
    rng = np.random.default_rng(1)
    trials = []
    for number in range(400):
        params = space.sample(rng)
        option = params["opt"]
        value = abs(math.log10(option["lr"]) + 2) if option["_name"] == "sgd" else 1.0
        trials.append(Trial(number=number, params=params, state=TrialState.SUCCEEDED, value=value))
    scores = imp.importance_of_trials(trials, "minimize", space).as_dict()
    assert scores["opt/sgd/lr"] == max(scores.values())
    assert scores["noise"] < scores["opt/sgd/lr"] / 3


def test_too_few_succeeded_trials_give_no_scores_and_a_clear_error():
    trials = random_trials(9) + [Trial(number=9, params=SPACE.defaults(), state=TrialState.FAILED, error="x")]
    assert imp.importance_of_trials(trials, "minimize", SPACE) is None

    class Few:
        config = StudyConfig(name="tiny", space=SPACE.to_nni(), tuner="Random", direction="minimize")
        space = SPACE
        trials = random_trials(9)

    with pytest.raises(ValueError, match=r"study 'tiny': importance needs at least 10 succeeded trials"):
        imp.importance(Few())


def test_equal_results_make_every_score_zero():
    trials = [t.replace(value=1.0) for t in random_trials(50)]
    assert imp.importance_of_trials(trials, "minimize", SPACE).scores == (0.0,) * 6
