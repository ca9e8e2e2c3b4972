"""The kriging believer: losses predicted for running trials (TPE's default lie)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from autotune_nb.trial import Trial, TrialState
from autotune_nb.tuners.believer import MAX_POINTS, LossBeliever, _kept
from autotune_nb.tuners.tpe import TPETuner


def bowl(x: np.ndarray) -> np.ndarray:
    return ((x - 0.3) ** 2).sum(axis=1)


@pytest.mark.parametrize("transform", [lambda v: v, lambda v: np.exp(40 * v)], ids=["plain", "heavy-tailed"])
def test_predictions_rank_unseen_points_like_the_truth(transform):
    rng = np.random.default_rng(0)
    points, queries = rng.random((40, 3)), rng.random((20, 3))
    losses = transform(bowl(points))
    predicted = LossBeliever().predict(points, losses, queries)
    assert stats.spearmanr(predicted, bowl(queries)).statistic > 0.8
    assert losses.min() <= predicted.min() and predicted.max() <= losses.max()  # losses' own scale


def test_no_prediction_from_fewer_than_three_points():
    assert LossBeliever().predict(np.zeros((2, 1)), np.array([1.0, 2.0]), np.zeros((1, 1))) is None


def test_past_max_points_it_keeps_the_best_and_the_most_recent():
    losses = np.arange(3 * MAX_POINTS, dtype=float)[::-1]  # the most recent trials are the best
    losses[:5] = -1.0  # ... and five old ones are better still
    kept = _kept(losses)
    assert len(kept) <= MAX_POINTS and {0, 1, 2, 3, 4} <= set(kept) and len(losses) - 1 in kept


def test_tpe_believes_a_running_trial_good_near_the_best_and_poor_far_from_it():
    space = {"x": {"_type": "uniform", "_value": [0, 1]}, "y": {"_type": "uniform", "_value": [0, 1]}}
    tuner = TPETuner(space, optimize_mode="minimize", seed=0)
    assert tuner.constant_liar_type == "predicted"
    rng = np.random.default_rng(1)
    for number, (x, y) in enumerate(rng.random((30, 2))):
        tuner.observe(Trial(number, {"x": x, "y": y}, TrialState.SUCCEEDED, (x - 0.3) ** 2 + (y - 0.3) ** 2))
    near, far = {"x": 0.31, "y": 0.29}, {"x": 0.95, "y": 0.95}
    _, losses = tuner._points_with_lies([near, far])
    observed, (lie_near, lie_far) = losses[:-2], losses[-2:]
    assert lie_near <= np.quantile(observed, 0.1) and lie_far >= np.quantile(observed, 0.9)
