"""The shared classArg checks: the rule, the owner, the argument and the value in every refusal."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

from autotune_nb.class_args import (
    check_names,
    require_int,
    require_number,
    require_one_of,
    require_optimize_mode,
    require_positive_number,
)
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
    (float("nan"), "T: x must be a finite number >= 0, got nan"),
    (True, "T: x must be a finite number >= 0, got True"),
    ("0.5", "T: x must be a finite number >= 0, got '0.5'"),
    (-1, "T: x must be a finite number >= 0, got -1"),
])
def test_numbers_must_be_finite_and_in_range(value, message):
    with pytest.raises(ConfigurationError) as caught:
        require_number("T", "x", value, minimum=0)
    assert str(caught.value) == message
    assert require_number("T", "x", np.float32(0.5), minimum=0) == 0.5


@pytest.mark.parametrize("value", [0, 1, -0.5, float("inf")])
def test_open_bounds_exclude_their_ends(value):
    with pytest.raises(ConfigurationError) as caught:
        require_number("T", "gamma", value, above=0, below=1, why="a fraction")
    assert str(caught.value) == f"T: gamma must be a finite number > 0 and < 1 (a fraction), got {value!r}"
    assert require_number("T", "gamma", Fraction(1, 4), above=0, below=1) == 0.25


@pytest.mark.parametrize("value", [0, -2.5, float("inf"), False])
def test_positive_numbers_exclude_zero(value):
    with pytest.raises(ConfigurationError, match=r"T: t must be a finite number > 0"):
        require_positive_number("T", "t", value)


@pytest.mark.parametrize("value", [10**400, -(10**400), Fraction(10**400, 3)])
@pytest.mark.parametrize("check", [
    lambda value: require_number("T", "x", value),
    lambda value: require_number("T", "x", value, minimum=0),
    lambda value: require_positive_number("T", "x", value),
])
def test_a_number_beyond_the_float_range_is_refused_naming_it_not_an_overflow(check, value):
    """math.isfinite(10**400) raises OverflowError: the classArg is refused as any other bad one."""
    with pytest.raises(ConfigurationError) as caught:
        check(value)
    message = str(caught.value)
    assert message.startswith("T: x must be a finite number") and message.endswith(", too large for a float")
    shown = repr(value)
    assert f"got {shown[:40]}...{shown[-20:]} ({len(shown)} characters)" in message  # not 400 digits


def test_a_huge_int_is_shown_cut_short():
    with pytest.raises(ConfigurationError) as caught:
        require_int("T", "n", -(10**400), minimum=0)
    assert str(caught.value) == f"T: n must be an integer >= 0, got -1{'0' * 38}...{'0' * 20} (402 characters)"


def test_one_of_compares_values_and_names_the_options():
    assert require_one_of("G", "nu", np.float64(2.5), (0.5, 1.5, 2.5)) == 2.5
    for value in (True, 2.0, np.array([0.5, 1.5]), "2.5"):
        with pytest.raises(ConfigurationError) as caught:
            require_one_of("G", "nu", value, (0.5, 1.5, 2.5), why="smoothness")
        assert str(caught.value).startswith("G: nu must be one of 0.5, 1.5, 2.5 (smoothness), got ")
    with pytest.raises(ConfigurationError, match=r"^X: optimize_mode must be one of 'maximize', 'minimize', got 'max'$"):
        require_optimize_mode("X", "max")


class _Owner:
    def __init__(self, space, *, optimize_mode="maximize", seed=None, size, rate=0.5):
        pass


def test_names_a_signature_does_not_take_are_refused_with_the_valid_ones():
    check_names("T", _Owner, {"size": 2, "rate": 0.1}, not_class_args=("self", "space", "seed"))
    with pytest.raises(ConfigurationError) as caught:
        check_names("T", _Owner, {"size": 2, "sise": 3}, not_class_args=("self", "space", "seed"))
    assert str(caught.value) == "T: unknown classArg 'sise' (= 3); valid classArgs are optimize_mode, rate, size"
    with pytest.raises(ConfigurationError, match=r"^T: classArg 'size' is required$"):
        check_names("T", _Owner, {}, not_class_args=("self", "space", "seed"))


def test_a_signature_with_kwargs_takes_any_name():
    def owner(*, optimize_mode="maximize", **anything):
        pass

    check_names("T", owner, {"whatever": 1}, not_class_args=())
