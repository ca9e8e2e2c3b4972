"""The value rules the numeric types share (randint, the uniform and the normal families): what an
integral bound is, NNI's q rounding, and the checks of a ``_value`` of numbers and of its ``q``.

What counts as a number at all is ``autotune_nb.numeric``'s rule, used here, not repeated.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..errors import SearchSpaceError
from ..numeric import is_finite_real, is_integer, is_real
from .distribution import Distribution


def is_integral(x: Any) -> bool:
    """An integer, or a number with an integral value (2.0); exact for ints beyond the float range."""
    return is_integer(x) or (is_finite_real(x) and float(x).is_integer())


def quantize(x: float, q: float, low: float | None = None, high: float | None = None) -> float:
    """NNI's q rounding: round(x / q) * q, clipped to [low, high] when bounds are given."""
    value = np.round(x / q) * q
    if low is not None:
        value = min(max(value, low), high)
    return float(value)


def check_numbers(dist: Distribution, name: str, shape: str) -> None:
    """The ``_value`` of a uniform or normal type: ``shape`` (e.g. "[low, high, q]") finite numbers."""
    spec = f"{dist.type_name}{dist.nni_value()!r}"
    values = dist.nni_value()
    if len(values) != shape.count(",") + 1 or not all(is_real(v) for v in values):
        raise SearchSpaceError(f"{name}: {dist.type_name} needs {shape} numbers, got {spec}")
    if not all(is_finite_real(v) for v in values):
        raise SearchSpaceError(f"{name}: {dist.type_name} needs finite {shape}, got {spec}")


def check_quantum(dist: Any, name: str, reach: float) -> None:
    """A q-type computes round(x / q) * q: q > 0, and x / q finite for every value x up to ``reach``.

    ``dist`` is a uniform or normal type (it has ``quantized`` and ``q``)."""
    if not dist.quantized:
        return
    if not dist.q > 0:
        raise SearchSpaceError(f"{name}: {dist.type_name} needs q > 0, got q={dist.q!r}")
    if not math.isfinite(reach / float(dist.q)):
        raise SearchSpaceError(
            f"{name}: {dist.type_name} needs value / q finite for values up to {reach:g}, got q={dist.q!r}"
        )
