"""Checks of the classArgs that tuners and assessors take: a bad one is refused at construction
with an error naming the owner, the argument, the rule and the value."""

from __future__ import annotations

import math
import numbers
from typing import Any, Mapping

from .vocabulary import DIRECTIONS
from .errors import ConfigurationError


def require_int(owner: str, arg: str, value: Any, *, minimum: int, why: str = "") -> int:
    """``value`` as an int, if it is an integer (not a bool) >= ``minimum``; ``why`` follows the rule."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        reason = f" ({why})" if why else ""
        raise ConfigurationError(f"{owner}: {arg} must be an integer >= {minimum}{reason}, got {value!r}")
    return int(value)


def require_number(owner: str, arg: str, value: Any, *, minimum: float | None = None) -> float:
    """``value`` as a float, if it is a finite real number (not a bool), >= ``minimum`` if given."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
        raise ConfigurationError(f"{owner}: {arg} must be a finite number, got {value!r}")
    if minimum is not None and value < minimum:
        raise ConfigurationError(f"{owner}: {arg} must be >= {minimum}, got {value!r}")
    return float(value)


def require_positive_number(owner: str, arg: str, value: Any) -> float:
    """``value`` as a float, if it is a finite real number > 0."""
    is_real = isinstance(value, numbers.Real) and not isinstance(value, bool)
    if not is_real or not math.isfinite(value) or value <= 0:
        raise ConfigurationError(f"{owner}: {arg} must be a finite number > 0, got {value!r}")
    return float(value)


def from_config(owner: str, class_args: Mapping[str, Any], *, direction: str,
                set_elsewhere: Mapping[str, str]) -> dict[str, Any]:
    """A config's classArgs as keyword arguments for ``owner``, less ``optimize_mode``.

    Every NNI config repeats the direction in classArgs: ``optimize_mode`` is dropped when it is the
    study's ``direction`` and refused otherwise. A key of ``set_elsewhere`` (e.g. seed) is not the
    owner's to take: it is refused, naming where it goes (the key's value there).
    """
    args = dict(class_args)
    if "optimize_mode" in args:
        mode = args.pop("optimize_mode")
        if mode not in DIRECTIONS:
            raise ConfigurationError(
                f"{owner}: classArgs optimize_mode must be 'maximize' or 'minimize', got {mode!r}; "
                f"drop it (the study's direction, {direction!r}, applies)"
            )
        if mode != direction:
            raise ConfigurationError(
                f"{owner}: classArgs optimize_mode={mode!r} conflicts with the study's direction "
                f"{direction!r}: drop it or use direction={mode!r} (--{mode} in %%autotune)"
            )
    misplaced = sorted(args.keys() & set_elsewhere.keys())
    if misplaced:
        raise ConfigurationError(
            f"{owner}: {misplaced[0]!r} is not a classArg: it goes in {set_elsewhere[misplaced[0]]}"
        )
    return args
