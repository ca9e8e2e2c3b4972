"""What counts as a number, and how a value is shown in an error: the rules every validator shares
(search spaces, classArgs, run limits, documents, trial results).

A number is a real number that is not a bool (``True == 1`` would otherwise pass): Python's ints and
floats, numpy's scalars, anything registered with ``numbers.Real``. "Finite" means a float holds it
finitely: NaN, the infinities and ints beyond the float range (a 400-digit int) are not.
"""

from __future__ import annotations

import math
import numbers
import re
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


_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|sec|m|min|h|d)?\s*$")
_SECONDS_PER = {None: 1, "s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600, "d": 86400}


def seconds_of(text: str) -> float | None:
    """A duration written as NNI and the magic write them (``"90"``, ``"90s"``, ``"10m"``, ``"1.5h"``,
    ``"2d"``) in seconds; None when ``text`` is not one, or is not above zero."""
    match = _DURATION.match(text) if isinstance(text, str) else None
    if match is None or float(match.group(1)) <= 0:
        return None
    return float(match.group(1)) * _SECONDS_PER[match.group(2)]


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
