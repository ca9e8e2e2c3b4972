"""The bounded numeric types: randint (integers in [low, high), high exclusive), uniform, quniform,
loguniform and qloguniform (values in [low, high], q-types clipped to it, log-types on a log axis)."""

from __future__ import annotations

import math
from typing import Any, Sequence

import numpy as np

from ..errors import SearchSpaceError
from ..numeric import is_real
from .distribution import NO_DEFAULT, Distribution
from .rules import check_numbers, check_quantum, is_integral, quantize

#: numpy draws randint values as int64; [low, high) must lie in [-2**63, 2**63].
_INT64_BOUNDS = (-(2**63), 2**63)


class RandInt(Distribution):
    """An integer in [low, high): NNI's randint, upper bound exclusive."""

    type_name = "randint"

    def __init__(self, low: int, high: int, default: Any = NO_DEFAULT):
        super().__init__(default)
        self.low, self.high = low, high

    def nni_value(self) -> list:
        return [self.low, self.high]

    def natural_default(self) -> int:
        return int(self.low + (self.high - self.low - 1) // 2)

    def sample(self, rng: np.random.Generator) -> int:
        return int(rng.integers(self.low, self.high))

    def to_unit(self, value: Any) -> float:
        return (int(value) - self.low + 0.5) / (self.high - self.low)

    def from_unit(self, u: float) -> int:
        return int(min(self.low + int(u * (self.high - self.low)), self.high - 1))

    def contains(self, value: Any) -> bool:
        return is_integral(value) and self.low <= value < self.high

    def grid(self) -> list:
        return list(range(int(self.low), int(self.high)))

    def validate(self, name: str) -> None:
        if not (is_integral(self.low) and is_integral(self.high)):
            raise SearchSpaceError(f"{name}: randint needs integer bounds [low, high), got {self.nni_value()!r}")
        self.low, self.high = int(self.low), int(self.high)
        if not self.low < self.high:
            raise SearchSpaceError(
                f"{name}: randint needs low < high (high is exclusive), got {self.nni_value()!r}"
            )
        if not (_INT64_BOUNDS[0] <= self.low and self.high <= _INT64_BOUNDS[1]):
            raise SearchSpaceError(
                f"{name}: randint needs -2**63 <= low < high <= 2**63 (values are drawn as int64), "
                f"got {self.nni_value()!r}"
            )
        super().validate(name)


class _Bounded(Distribution):
    """uniform / loguniform and their q-variants: a value in [low, high]."""

    quantized = False

    def __init__(self, low: float, high: float, q: float | None = None, default: Any = NO_DEFAULT):
        super().__init__(default)
        self.low, self.high, self.q = low, high, q

    def nni_value(self) -> list:
        return [self.low, self.high] + ([self.q] if self.quantized else [])

    def _warp(self, x: float) -> float:
        return math.log(x) if self.log else float(x)

    def _unwarp(self, y: float) -> float:
        return math.exp(y) if self.log else float(y)

    def _finish(self, x: float) -> Any:
        if not self.quantized:
            return float(min(max(x, self.low), self.high))
        value = quantize(x, self.q, self.low, self.high)
        return int(round(value)) if self._integral_grid else value

    def snap(self, x: float) -> Any:
        """The legal value NNI's rule makes of a raw draw ``x``: clipped to [low, high], q-rounded."""
        return self._finish(x)

    @property
    def _integral_grid(self) -> bool:
        """q, low and high all integers: values are returned as ints (e.g. batch sizes)."""
        return self.quantized and all(is_integral(v) for v in (self.low, self.high, self.q))

    def natural_default(self) -> Any:
        return self._finish(self._unwarp((self._warp(self.low) + self._warp(self.high)) / 2))

    def sample(self, rng: np.random.Generator) -> Any:
        return self._finish(self._unwarp(rng.uniform(self._warp(self.low), self._warp(self.high))))

    def to_unit(self, value: Any) -> float:
        lo, hi = self._warp(self.low), self._warp(self.high)
        return min(max((self._warp(value) - lo) / (hi - lo), 0.0), 1.0)  # not np.clip: 20x slower on a scalar

    def to_units(self, values: Sequence[float]) -> np.ndarray:
        """``to_unit`` of many values at once (``dimensions.encode_many``)."""
        lo, hi = self._warp(self.low), self._warp(self.high)
        x = np.asarray(values, dtype=float)
        return np.clip(((np.log(x) if self.log else x) - lo) / (hi - lo), 0.0, 1.0)

    def from_unit(self, u: float) -> Any:
        lo, hi = self._warp(self.low), self._warp(self.high)
        return self._finish(self._unwarp(lo + float(np.clip(u, 0.0, 1.0)) * (hi - lo)))

    def contains(self, value: Any) -> bool:
        if not is_real(value) or not self.low <= value <= self.high:
            return False
        if self.quantized and value not in (self.low, self.high):
            return math.isclose(value / self.q, round(value / self.q), rel_tol=1e-9, abs_tol=1e-9)
        return True

    def grid(self) -> list:
        if not self.quantized:
            return super().grid()
        # Every value round(x/q)*q reachable for x in [low, high], plus the clipped ends.
        first, last = math.ceil(self.low / self.q - 1e-9), math.floor(self.high / self.q + 1e-9)
        values = {self._finish(self.low), self._finish(self.high)}
        values.update(self._finish(k * self.q) for k in range(first, last + 1))
        return sorted(values)

    def validate(self, name: str) -> None:
        check_numbers(self, name, "[low, high, q]" if self.quantized else "[low, high]")
        bounds = [self.low, self.high]
        if self.log and not 0 < self.low < self.high:
            raise SearchSpaceError(f"{name}: {self.type_name} needs 0 < low < high, got {bounds!r}")
        if not self.low < self.high:
            raise SearchSpaceError(f"{name}: {self.type_name} needs low < high, got {bounds!r}")
        if not self.log and not math.isfinite(float(self.high) - float(self.low)):
            # Drawing and encoding scale by high - low: uniform(-1e308, 1e308) would overflow there.
            raise SearchSpaceError(f"{name}: {self.type_name} needs high - low finite, got {bounds!r}")
        check_quantum(self, name, max(abs(float(self.low)), abs(float(self.high))))
        super().validate(name)


class Uniform(_Bounded):
    type_name = "uniform"

    def __init__(self, low: float, high: float, default: Any = NO_DEFAULT):
        super().__init__(low, high, None, default)


class QUniform(_Bounded):
    type_name = "quniform"
    quantized = True


class LogUniform(_Bounded):
    type_name = "loguniform"
    log = True

    def __init__(self, low: float, high: float, default: Any = NO_DEFAULT):
        super().__init__(low, high, None, default)


class QLogUniform(_Bounded):
    type_name = "qloguniform"
    log = True
    quantized = True
