"""The normal types: normal, qnormal, lognormal and qlognormal (unbounded; ``mu`` and ``sigma`` of the
normal, or of the log of the value; q-types rounded, not clipped), and the reach their values have."""

from __future__ import annotations

import math
import statistics
import sys
from typing import Any

import numpy as np

from ..errors import SearchSpaceError
from ..numeric import is_finite_real
from .distribution import NO_DEFAULT, Distribution
from .rules import check_numbers, check_quantum, is_integral, quantize

#: The standard normal (stdlib: importing scipy.special here would slow every worker's start).
_STANDARD_NORMAL = statistics.NormalDist()
#: A normal's values are taken to lie within mu +- GAUSSIAN_REACH * sigma: ``from_unit`` clips at
#: 1e-12 (7.03 sigmas) and a draw beyond 10 sigmas has probability 1.5e-23. Its parameters must keep
#: every value in that range a finite float (for a lognormal: exp of it finite and positive).
GAUSSIAN_REACH = 10
#: exp(y) is a finite float above 0 for |y| <= this (709.78).
_LOG_FLOAT_MAX = math.log(sys.float_info.max)


class _Gaussian(Distribution):
    """normal / lognormal and their q-variants: unbounded; ``mu`` and ``sigma`` of the (log) normal."""

    quantized = False

    def __init__(self, mu: float, sigma: float, q: float | None = None, default: Any = NO_DEFAULT):
        super().__init__(default)
        self.mu, self.sigma, self.q = mu, sigma, q

    def nni_value(self) -> list:
        return [self.mu, self.sigma] + ([self.q] if self.quantized else [])

    def _finish(self, z: float) -> Any:
        x = math.exp(z) if self.log else float(z)
        if not self.quantized:
            return x
        value = quantize(x, self.q)
        return int(round(value)) if is_integral(self.q) else value

    def snap(self, x: float) -> Any:
        """The legal value NNI's rule makes of a raw draw ``x`` (> 0 for the log types): q-rounded."""
        return self._finish(math.log(x) if self.log else x)

    def natural_default(self) -> Any:
        return self._finish(self.mu)

    def sample(self, rng: np.random.Generator) -> Any:
        return self._finish(rng.normal(self.mu, self.sigma))

    def to_unit(self, value: Any) -> float:
        x = float(value)
        if self.log:
            x = math.log(max(x, 1e-300))
        return float(np.clip(_STANDARD_NORMAL.cdf((x - self.mu) / self.sigma), 1e-12, 1 - 1e-12))

    def from_unit(self, u: float) -> Any:
        u = float(np.clip(u, 1e-12, 1 - 1e-12))
        return self._finish(self.mu + self.sigma * _STANDARD_NORMAL.inv_cdf(u))

    def contains(self, value: Any) -> bool:
        if not is_finite_real(value) or (self.log and value < 0):
            return False
        if self.quantized:
            return math.isclose(value / self.q, round(value / self.q), rel_tol=1e-9, abs_tol=1e-9)
        return not self.log or value > 0

    def validate(self, name: str) -> None:
        """Beyond finite numbers and sigma > 0: every value within GAUSSIAN_REACH sigmas of mu must be
        a finite float, for a lognormal exp of it too (finite and above 0, so that log maps it back)."""
        check_numbers(self, name, "[mu, sigma, q]" if self.quantized else "[mu, sigma]")
        if not self.sigma > 0:
            raise SearchSpaceError(f"{name}: {self.type_name} needs sigma > 0, got sigma={self.sigma!r}")
        extent = abs(float(self.mu)) + GAUSSIAN_REACH * float(self.sigma)
        limit = _LOG_FLOAT_MAX if self.log else sys.float_info.max
        if not extent <= limit:
            why = f"values reach {GAUSSIAN_REACH} sigmas from mu"
            why += "; exp of them must be finite" if self.log else ""
            raise SearchSpaceError(
                f"{name}: {self.type_name} needs |mu| + {GAUSSIAN_REACH} * sigma <= {limit:.6g} ({why}), "
                f"got mu={self.mu!r}, sigma={self.sigma!r}"
            )
        check_quantum(self, name, math.exp(extent) if self.log else extent)
        super().validate(name)


class Normal(_Gaussian):
    type_name = "normal"

    def __init__(self, mu: float, sigma: float, default: Any = NO_DEFAULT):
        super().__init__(mu, sigma, None, default)


class QNormal(_Gaussian):
    type_name = "qnormal"
    quantized = True


class LogNormal(_Gaussian):
    type_name = "lognormal"
    log = True

    def __init__(self, mu: float, sigma: float, default: Any = NO_DEFAULT):
        super().__init__(mu, sigma, None, default)


class QLogNormal(_Gaussian):
    type_name = "qlognormal"
    log = True
    quantized = True
