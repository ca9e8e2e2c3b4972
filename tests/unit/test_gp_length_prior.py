"""The GP tuner's prior on the length scales (``_gp.length_prior``): its gradient is right, it keeps
length scales fitted on few points off the bounds, and still lets the data ask for short ones."""

from __future__ import annotations

import numpy as np
import pytest

from autotune_nb.space import SearchSpace
from autotune_nb.trial import Trial, TrialState
from autotune_nb.tuners import create_tuner
from autotune_nb.tuners._gp import Hyperparameters, fit_hyperparameters, length_prior, warp_losses

UPPER_LENGTH = float(np.exp(Hyperparameters.bounds(1)[0][1]))


def _rosenbrock(unit: np.ndarray) -> np.ndarray:
    """Rosenbrock on [-5, 10]^d, from unit-cube points."""
    x = unit * 15 - 5
    return (100 * (x[:, 1:] - x[:, :-1] ** 2) ** 2 + (1 - x[:, :-1]) ** 2).sum(1)


def _fit(x: np.ndarray, y: np.ndarray, with_prior: bool) -> np.ndarray:
    start = Hyperparameters.initial(x.shape[1])
    return fit_hyperparameters(x, y, 2.5, 1e-6, [start], with_length_prior=with_prior).lengths


def test_gradient_matches_finite_differences():
    log_lengths = np.log([0.02, 0.3, 1.0, 7.0])
    _, grad = length_prior(log_lengths)
    step = 1e-6
    numeric = [(length_prior(log_lengths + e)[0] - length_prior(log_lengths - e)[0]) / (2 * step)
               for e in np.eye(len(log_lengths)) * step]
    np.testing.assert_allclose(grad, numeric, rtol=1e-6)


def test_long_scales_cost_far_more_than_short_ones():
    at_mode = length_prior(np.log([1 / 3]))[0]  # the mode of log l: shape / rate
    assert length_prior(np.log([1 / 3]))[1] == pytest.approx([0.0])
    assert length_prior(np.log([5.0]))[0] - at_mode > 10 * (length_prior(np.log([0.05]))[0] - at_mode)


def test_few_points_no_longer_send_length_scales_to_the_bounds():
    seeds = range(6)
    points = [np.random.default_rng(seed).random((12, 5)) for seed in seeds]
    plain = [_fit(x, warp_losses(_rosenbrock(x)), with_prior=False) for x in points]
    with_prior = [_fit(x, warp_losses(_rosenbrock(x)), with_prior=True) for x in points]
    # Every dimension of Rosenbrock matters, yet the likelihood alone deems some irrelevant.
    assert sum(np.any(lengths >= 0.99 * UPPER_LENGTH) for lengths in plain) >= 3
    assert all(np.all((lengths > 0.05) & (lengths < 3.0)) for lengths in with_prior)


def test_data_can_still_ask_for_a_short_length_scale():
    x = np.random.default_rng(0).random((40, 2))
    lengths = _fit(x, warp_losses(np.sin(25 * x[:, 0])), with_prior=True)
    assert lengths[0] < 0.2
    assert lengths[1] > 3 * lengths[0]  # the dimension that does not matter stays the longer


def test_the_gp_tuner_fits_with_the_prior():
    space = {f"x{i}": {"_type": "uniform", "_value": [0, 1]} for i in range(5)}
    tuner = create_tuner("GP", space, optimize_mode="minimize", seed=0, class_args={"cold_start_num": 12})
    encoding = SearchSpace(space)
    for index in range(12):
        [config] = tuner.suggest(1)
        loss = float(_rosenbrock(encoding.encode(config)[None, :])[0])
        tuner.observe(Trial(index, config, TrialState.SUCCEEDED, loss))
    tuner.suggest(1)  # the first model-based suggestion fits the hyperparameters
    x = np.array([encoding.encode(trial.params) for trial in tuner.history])
    y = warp_losses(np.array([trial.value for trial in tuner.history]))
    assert np.any(_fit(x, y, with_prior=False) >= 0.99 * UPPER_LENGTH)  # what the tuner would get without
    assert np.all(Hyperparameters(tuner._theta).lengths < 3.0)
