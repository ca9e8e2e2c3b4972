"""The shared classArg checks: the rule, the owner, the argument and the value in every refusal."""

from __future__ import annotations

import numpy as np
import pytest

from autotune_nb.class_args import require_int, require_number, require_positive_number
from autotune_nb.errors import ConfigurationError


def test_integers_numpy_ones_included_pass_as_int():
    assert require_int("T", "n", np.int64(3), minimum=1) == 3
    assert type(require_int("T", "n", np.int64(3), minimum=1)) is int


@pytest.mark.parametrize("value", [0, 2.0, True, "3", None])
def test_anything_else_is_refused_with_the_rule(value):
    with pytest.raises(ConfigurationError) as caught:
        require_int("T", "n", value, minimum=1, why="one at least")
    assert str(caught.value) == f"T: n must be an integer >= 1 (one at least), got {value!r}"


@pytest.mark.parametrize("value, message", [
    (float("nan"), "T: x must be a finite number, got nan"),
    (True, "T: x must be a finite number, got True"),
    (-1, "T: x must be >= 0, got -1"),
])
def test_numbers_must_be_finite_and_in_range(value, message):
    with pytest.raises(ConfigurationError) as caught:
        require_number("T", "x", value, minimum=0)
    assert str(caught.value) == message
    assert require_number("T", "x", np.float32(0.5), minimum=0) == 0.5


@pytest.mark.parametrize("value", [0, -2.5, float("inf"), False])
def test_positive_numbers_exclude_zero(value):
    with pytest.raises(ConfigurationError, match=r"T: t must be a finite number > 0"):
        require_positive_number("T", "t", value)
