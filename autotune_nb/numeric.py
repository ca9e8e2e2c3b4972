"""What counts as a number, and how a value is shown in an error: the rules every validator shares
(search spaces, classArgs, run limits, documents, trial results).

A number is a real number that is not a bool (``True == 1`` would otherwise pass): Python's ints and
floats, numpy's scalars, anything registered with ``numbers.Real``. "Finite" means a float holds it
finitely: NaN, the infinities and ints beyond the float range (a 400-digit int) are not.
"""

from __future__ import annotations

import math
import numbers
from typing import Any

#: The longest value an error shows in full; a longer one (a 400-digit int) is cut in the middle.
SHOWN_LENGTH = 80


def is_real(x: Any) -> bool:
    return isinstance(x, numbers.Real) and not isinstance(x, bool)


def is_integer(x: Any) -> bool:
    return isinstance(x, numbers.Integral) and not isinstance(x, bool)


def is_finite_real(x: Any) -> bool:
    """A real number that a float holds finitely."""
    if not is_real(x):
        return False
    try:
        return math.isfinite(x)
    except OverflowError:  # an int beyond the float range
        return False


def shown(value: Any) -> str:
    """``repr(value)`` for an error message, its middle cut out past SHOWN_LENGTH characters (with the
    full length); a value whose ``repr`` raises (or is too long to make) is named by its type."""
    try:
        text = repr(value)
    except Exception:  # noqa: BLE001 - a hostile __repr__, or an int past Python's digit limit
        return f"<{type(value).__name__} that cannot be shown>"
    if len(text) <= SHOWN_LENGTH:
        return text
    return f"{text[:40]}...{text[-20:]} ({len(text)} characters)"
