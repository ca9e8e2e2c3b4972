"""The GP tuner's output warping (``_gp.warp_losses``): order kept, standardised, safe on tiny or
constant data, and wide-ranging losses pulled in."""

from __future__ import annotations

import numpy as np
import pytest

from autotune_nb.tuners._gp import warp_losses


@pytest.mark.parametrize("losses", [
    np.random.default_rng(0).normal(size=40),
    10.0 ** np.random.default_rng(1).uniform(0, 6, size=40),  # 1 to 1e6
    np.random.default_rng(2).exponential(size=25) - 3.3,       # negative, skewed
])
def test_order_is_kept_and_targets_are_standardised(losses):
    warped = warp_losses(losses)
    order = np.argsort(losses)
    assert np.all(np.diff(warped[order]) > 0)  # strictly increasing with the loss
    assert warped.mean() == pytest.approx(0.0, abs=1e-9)
    assert warped.std() == pytest.approx(1.0)


def test_equal_losses_get_equal_targets():
    warped = warp_losses(np.array([3.0, 1.0, 3.0, 7.0, 1.0]))
    assert warped[0] == warped[2] and warped[1] == warped[4]


@pytest.mark.parametrize("losses", [np.array([5.0]), np.full(6, 2.5)])
def test_a_single_or_constant_loss_gives_zeros(losses):
    assert np.array_equal(warp_losses(losses), np.zeros(len(losses)))


def test_two_losses_are_only_standardised():
    assert np.allclose(warp_losses(np.array([10.0, 1e6])), [-1.0, 1.0])


def test_shifting_or_scaling_the_losses_changes_nothing():
    losses = np.random.default_rng(3).lognormal(sigma=3, size=30)
    assert np.allclose(warp_losses(losses), warp_losses(1e3 * losses - 7.0))


def test_a_few_huge_losses_no_longer_flatten_the_rest():
    """Standardised raw values of 1 ... 1e6 put the 37 smallest within a tiny fraction of the range."""
    losses = np.concatenate([np.linspace(1.0, 100.0, 37), [1e4, 1e5, 1e6]])
    raw = (losses - losses.mean()) / losses.std()
    warped = warp_losses(losses)

    def share_of_smallest(values):
        return np.ptp(values[:37]) / np.ptp(values)

    assert share_of_smallest(raw) < 1e-3
    assert share_of_smallest(warped) > 10 * share_of_smallest(raw)


def test_most_losses_tied_at_the_best_still_keep_their_order():
    """A median gap of 0 (half the losses equal the best): the mean gap is the unit instead."""
    losses = np.array([1.0, 1.0, 1.0, 1.0, 2.0, 50.0, 1e5])
    warped = warp_losses(losses)
    assert np.all(np.isfinite(warped))
    assert len(set(warped[:4])) == 1 and warped[3] < warped[4] < warped[5] < warped[6]
