"""Search spaces: NNI's JSON form and the same space declared in Python.

A ``SearchSpace`` maps parameter names to ``Distribution`` objects, one class per NNI ``_type``:

    choice, randint, uniform, quniform, loguniform, qloguniform, normal, qnormal, lognormal,
    qlognormal

with NNI's semantics: randint's upper bound is exclusive; q-types return
``clip(round(x / q) * q, low, high)`` (the normal q-types are not clipped); log-types need low > 0.
A ``choice`` option that is a dict with a ``_name`` key carries a nested sub-space: when it is chosen,
the parameter's value is ``{"_name": name, **sampled sub-parameters}`` (NNI's nested form).

For numeric tuners (GP, evolution, TPE) the space is flattened into ``Dimension`` objects, each a path
such as ``("layer", "Conv", "kernel")`` that is active only when its enclosing choices took the branch
it lives in; ``encode``/``decode`` map configurations to and from the unit cube.
"""

from __future__ import annotations

import abc
import dataclasses
import itertools
import json
import math
import statistics
import sys
from typing import Any, Iterator, Mapping, Sequence

import numpy as np
from .errors import SearchSpaceError

_NO_DEFAULT = object()
#: The standard normal (stdlib: importing scipy.special here would slow every worker's start).
_STANDARD_NORMAL = statistics.NormalDist()

#: The most choices a parameter may sit inside (a branch of a branch of ...). Every walk over a space
#: (validation, flattening, tuners) recurses once per level: 32 is far beyond any real model family
#: and far below Python's recursion limit.
MAX_NESTING = 32
#: A normal's values are taken to lie within mu +- GAUSSIAN_REACH * sigma: ``from_unit`` clips at
#: 1e-12 (7.03 sigmas) and a draw beyond 10 sigmas has probability 1.5e-23. Its parameters must keep
#: every value in that range a finite float (for a lognormal: exp of it finite and positive).
GAUSSIAN_REACH = 10
#: exp(y) is a finite float above 0 for |y| <= this (709.78).
_LOG_FLOAT_MAX = math.log(sys.float_info.max)
#: numpy draws randint values as int64; [low, high) must lie in [-2**63, 2**63].
_INT64_BOUNDS = (-(2**63), 2**63)


def _is_number(x: Any) -> bool:
    return isinstance(x, (int, float, np.integer, np.floating)) and not isinstance(x, bool)


def _is_finite(x: Any) -> bool:
    """A number that is a finite float: not NaN nor an infinity, nor an int too large for a float."""
    try:
        return _is_number(x) and math.isfinite(x)
    except OverflowError:
        return False


def _is_integral(x: Any) -> bool:
    if isinstance(x, (int, np.integer)):  # exact, even beyond the float range
        return not isinstance(x, bool)
    return _is_number(x) and float(x).is_integer()


def _quantize(x: float, q: float, low: float | None = None, high: float | None = None) -> float:
    """NNI's q rounding: round(x / q) * q, clipped to [low, high] when bounds are given."""
    value = np.round(x / q) * q
    if low is not None:
        value = min(max(value, low), high)
    return float(value)


class Distribution(abc.ABC):
    """One parameter's distribution. Subclasses are one per NNI ``_type``."""

    type_name: str = ""
    #: True where the value is a number on a continuous (possibly quantized) axis.
    numeric: bool = True
    #: True where the distribution is defined on a log axis.
    log: bool = False

    def __init__(self, default: Any = _NO_DEFAULT):
        self._default = default

    # --- NNI JSON -----------------------------------------------------------------------------
    @abc.abstractmethod
    def nni_value(self) -> list:
        """The ``_value`` list of NNI's JSON form."""

    def to_nni(self) -> dict:
        spec: dict[str, Any] = {"_type": self.type_name, "_value": self.nni_value()}
        if self.has_explicit_default:
            spec["_default"] = self._default
        return spec

    # --- values -------------------------------------------------------------------------------
    @property
    def has_explicit_default(self) -> bool:
        return self._default is not _NO_DEFAULT

    @property
    def default(self) -> Any:
        return self._default if self.has_explicit_default else self.natural_default()

    @abc.abstractmethod
    def natural_default(self) -> Any:
        """The value used when none was declared: the centre of the distribution."""

    @abc.abstractmethod
    def sample(self, rng: np.random.Generator) -> Any:
        """Draw one value (nested choices are not resolved here: see ``SearchSpace.sample``)."""

    @abc.abstractmethod
    def to_unit(self, value: Any) -> float:
        """Map a value to [0, 1]: the inverse CDF coordinate for normals, the cell centre for discretes."""

    @abc.abstractmethod
    def from_unit(self, u: float) -> Any:
        """Inverse of ``to_unit``; rounds and clips so the result is always a legal value."""

    @abc.abstractmethod
    def contains(self, value: Any) -> bool:
        """True when ``value`` is a legal value of this distribution."""

    def grid(self) -> list:
        """All values, for grid search. Continuous distributions cannot be enumerated."""
        raise SearchSpaceError(
            f"{self.type_name} is continuous and cannot be enumerated for grid search: "
            "use choice, randint or a q-type (quniform, qloguniform)"
        )

    def _check_default(self, name: str) -> None:
        if self.has_explicit_default and not self.contains(self._default):
            raise SearchSpaceError(
                f"{name}: default {self._default!r} is not a legal value of "
                f"{self.type_name}{self.nni_value()!r}"
            )

    def validate(self, name: str) -> None:
        """Raise SearchSpaceError naming ``name`` if the distribution breaks a rule."""
        self._check_default(name)

    def __eq__(self, other: object) -> bool:
        return type(self) is type(other) and self.to_nni() == other.to_nni()  # type: ignore[union-attr]

    def __hash__(self) -> int:
        return hash(json.dumps(self.to_nni(), sort_keys=True, default=str))

    def __repr__(self) -> str:
        args = ", ".join(repr(v) for v in self.nni_value())
        if self.has_explicit_default:
            args += f", default={self._default!r}"
        return f"{self.type_name}({args})"


class Choice(Distribution):
    """One of ``options``. An option that is a dict with ``_name`` holds a nested sub-space."""

    type_name = "choice"
    numeric = False

    def __init__(self, options: Sequence[Any], default: Any = _NO_DEFAULT, *, _path: tuple[str, ...] = ()):
        super().__init__(default)
        if isinstance(options, (str, bytes)) or not isinstance(options, Sequence):
            raise SearchSpaceError(
                f"choice needs a list of options, got {options!r} of type {type(options).__name__}"
            )
        self.options = list(options)
        # Nested sub-spaces, parsed once: option index -> SearchSpace. ``_path`` is this parameter's
        # path when parsed from JSON (empty for an ``at.choice`` call), to name errors and count depth.
        self.subspaces: dict[int, SearchSpace] = {}
        for i, option in enumerate(self.options):
            # A dict with "_name" is a nested branch; a dict without is a plain value (NNI's Batch form).
            if isinstance(option, Mapping) and "_name" in option:
                sub = {k: v for k, v in option.items() if k != "_name"}
                self.subspaces[i] = SearchSpace(sub, _path=(*_path, str(option["_name"])))
        #: Levels of choices nested inside this one (0: no option holds a sub-space).
        self.nesting = max((sub.nesting + 1 for sub in self.subspaces.values()), default=0)

    @property
    def is_nested(self) -> bool:
        return bool(self.subspaces)

    def option_label(self, index: int) -> Any:
        """What identifies option ``index`` in a configuration: its ``_name`` if nested."""
        return self.options[index]["_name"] if index in self.subspaces else self.options[index]

    def index_of(self, value: Any) -> int:
        """The option index of a configuration value (a plain option or a nested ``{"_name": ...}``)."""
        label = value["_name"] if isinstance(value, Mapping) and "_name" in value else value
        for i in range(len(self.options)):
            candidate = self.option_label(i)
            if candidate == label and type(candidate) is type(label) or _same_number(candidate, label):
                return i
        raise KeyError(value)

    def nni_value(self) -> list:
        out = []
        for i, option in enumerate(self.options):
            if i in self.subspaces:
                out.append({"_name": option["_name"], **self.subspaces[i].to_nni()})
            else:
                out.append(option)
        return out

    def natural_default(self) -> Any:
        return self._resolve_default(0)

    def _resolve_default(self, index: int) -> Any:
        if index in self.subspaces:
            return {"_name": self.option_label(index), **self.subspaces[index].defaults()}
        return self.options[index]

    def sample(self, rng: np.random.Generator) -> Any:
        return self.options[int(rng.integers(len(self.options)))]

    def to_unit(self, value: Any) -> float:
        return (self.index_of(value) + 0.5) / len(self.options)

    def from_unit(self, u: float) -> Any:
        return self.options[min(int(u * len(self.options)), len(self.options) - 1)]

    def contains(self, value: Any) -> bool:
        try:
            index = self.index_of(value)
        except KeyError:
            return False
        if index in self.subspaces:
            sub = {k: v for k, v in value.items() if k != "_name"} if isinstance(value, Mapping) else None
            return sub is not None and self.subspaces[index].contains(sub)
        return True

    def grid(self) -> list:
        values: list = []
        for i in range(len(self.options)):
            if i in self.subspaces:
                values.extend({"_name": self.option_label(i), **cfg} for cfg in self.subspaces[i].grid())
            else:
                values.append(self.options[i])
        return values

    def validate(self, name: str) -> None:
        """Options must be told apart by ``index_of`` (how a trial's value is matched back to its
        option) and after an export: so no NaN in them, and no two alike by ``_option_key``."""
        if not self.options:
            raise SearchSpaceError(f"{name}: choice needs at least one option, got []")
        seen: dict[str, int] = {}
        for i in range(len(self.options)):
            label = self.option_label(i)
            if _contains_nan(label):
                raise SearchSpaceError(
                    f"{name}: choice options must not be or hold NaN (NaN equals nothing, not even itself, "
                    f"so a trial's value could never be matched to its option), got option {i}: {label!r}"
                )
            first = seen.setdefault(_option_key(label), i)
            if first != i:
                raise SearchSpaceError(
                    f"{name}: choice options must be distinct, got {self.option_label(first)!r} (option {first}) "
                    f"and {label!r} (option {i}), which are the same value to a tuner and in a JSON export"
                )
        for i, sub in self.subspaces.items():
            sub.validate(prefix=f"{name}.{self.option_label(i)}.")
        super().validate(name)

    def __repr__(self) -> str:
        extra = f", default={self._default!r}" if self.has_explicit_default else ""
        return f"choice({self.nni_value()!r}{extra})"


def _same_number(a: Any, b: Any) -> bool:
    return _is_number(a) and _is_number(b) and bool(a == b)  # exact: no float() of a huge int


def _contains_nan(value: Any) -> bool:
    """True for NaN or a list/tuple/dict holding one at any depth."""
    if _is_number(value):
        return bool(value != value)
    if isinstance(value, Mapping):
        return any(_contains_nan(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return any(_contains_nan(v) for v in value)
    return False


def _option_key(label: Any) -> str:
    """A text equal for two choice options exactly when a tuner or an export cannot tell them apart:
    numbers by value (1 and 1.0, 0.0 and -0.0, as ``index_of`` compares them), tuples as lists and
    dict keys as strings (as JSON writes them), other objects by ``repr`` (as ``config_key`` does)."""

    def canonical(value: Any) -> Any:
        if _is_number(value):
            value = value.item() if isinstance(value, np.generic) else value
            if isinstance(value, int) and _is_finite(value) and float(value) == value:
                return float(value)
            return value + 0.0 if isinstance(value, float) else value
        if isinstance(value, Mapping):
            return {str(k): canonical(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [canonical(v) for v in value]
        return value

    return json.dumps(canonical(label), sort_keys=True, default=repr)


class RandInt(Distribution):
    """An integer in [low, high): NNI's randint, upper bound exclusive."""

    type_name = "randint"

    def __init__(self, low: int, high: int, default: Any = _NO_DEFAULT):
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
        return _is_integral(value) and self.low <= value < self.high

    def grid(self) -> list:
        return list(range(int(self.low), int(self.high)))

    def validate(self, name: str) -> None:
        if not (_is_integral(self.low) and _is_integral(self.high)):
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


def _check_numbers(dist: "_Bounded | _Gaussian", name: str, shape: str) -> None:
    """The ``_value`` of a uniform or normal type: ``shape`` (e.g. "[low, high, q]") finite numbers."""
    spec = f"{dist.type_name}{dist.nni_value()!r}"
    values = dist.nni_value()
    if len(values) != shape.count(",") + 1 or not all(_is_number(v) for v in values):
        raise SearchSpaceError(f"{name}: {dist.type_name} needs {shape} numbers, got {spec}")
    if not all(_is_finite(v) for v in values):
        raise SearchSpaceError(f"{name}: {dist.type_name} needs finite {shape}, got {spec}")


def _check_quantum(dist: "_Bounded | _Gaussian", name: str, reach: float) -> None:
    """A q-type computes round(x / q) * q: q > 0, and x / q finite for every value x up to ``reach``."""
    if not dist.quantized:
        return
    if not dist.q > 0:
        raise SearchSpaceError(f"{name}: {dist.type_name} needs q > 0, got q={dist.q!r}")
    if not math.isfinite(reach / float(dist.q)):
        raise SearchSpaceError(
            f"{name}: {dist.type_name} needs value / q finite for values up to {reach:g}, got q={dist.q!r}"
        )


class _Bounded(Distribution):
    """uniform / loguniform and their q-variants: a value in [low, high]."""

    quantized = False

    def __init__(self, low: float, high: float, q: float | None = None, default: Any = _NO_DEFAULT):
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
        value = _quantize(x, self.q, self.low, self.high)
        return int(round(value)) if self._integral_grid else value

    @property
    def _integral_grid(self) -> bool:
        """q, low and high all integers: values are returned as ints (e.g. batch sizes)."""
        return self.quantized and all(_is_integral(v) for v in (self.low, self.high, self.q))

    def natural_default(self) -> Any:
        return self._finish(self._unwarp((self._warp(self.low) + self._warp(self.high)) / 2))

    def sample(self, rng: np.random.Generator) -> Any:
        return self._finish(self._unwarp(rng.uniform(self._warp(self.low), self._warp(self.high))))

    def to_unit(self, value: Any) -> float:
        lo, hi = self._warp(self.low), self._warp(self.high)
        return float(np.clip((self._warp(value) - lo) / (hi - lo), 0.0, 1.0))

    def from_unit(self, u: float) -> Any:
        lo, hi = self._warp(self.low), self._warp(self.high)
        return self._finish(self._unwarp(lo + float(np.clip(u, 0.0, 1.0)) * (hi - lo)))

    def contains(self, value: Any) -> bool:
        if not _is_number(value) or not self.low <= value <= self.high:
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
        _check_numbers(self, name, "[low, high, q]" if self.quantized else "[low, high]")
        bounds = [self.low, self.high]
        if self.log and not 0 < self.low < self.high:
            raise SearchSpaceError(f"{name}: {self.type_name} needs 0 < low < high, got {bounds!r}")
        if not self.low < self.high:
            raise SearchSpaceError(f"{name}: {self.type_name} needs low < high, got {bounds!r}")
        if not self.log and not math.isfinite(float(self.high) - float(self.low)):
            # Drawing and encoding scale by high - low: uniform(-1e308, 1e308) would overflow there.
            raise SearchSpaceError(f"{name}: {self.type_name} needs high - low finite, got {bounds!r}")
        _check_quantum(self, name, max(abs(float(self.low)), abs(float(self.high))))
        super().validate(name)


class Uniform(_Bounded):
    type_name = "uniform"

    def __init__(self, low: float, high: float, default: Any = _NO_DEFAULT):
        super().__init__(low, high, None, default)


class QUniform(_Bounded):
    type_name = "quniform"
    quantized = True


class LogUniform(_Bounded):
    type_name = "loguniform"
    log = True

    def __init__(self, low: float, high: float, default: Any = _NO_DEFAULT):
        super().__init__(low, high, None, default)


class QLogUniform(_Bounded):
    type_name = "qloguniform"
    log = True
    quantized = True


class _Gaussian(Distribution):
    """normal / lognormal and their q-variants: unbounded; ``mu`` and ``sigma`` of the (log) normal."""

    quantized = False

    def __init__(self, mu: float, sigma: float, q: float | None = None, default: Any = _NO_DEFAULT):
        super().__init__(default)
        self.mu, self.sigma, self.q = mu, sigma, q

    def nni_value(self) -> list:
        return [self.mu, self.sigma] + ([self.q] if self.quantized else [])

    def _finish(self, z: float) -> Any:
        x = math.exp(z) if self.log else float(z)
        if not self.quantized:
            return x
        value = _quantize(x, self.q)
        return int(round(value)) if _is_integral(self.q) else value

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
        if not _is_finite(value) or (self.log and value < 0):
            return False
        if self.quantized:
            return math.isclose(value / self.q, round(value / self.q), rel_tol=1e-9, abs_tol=1e-9)
        return not self.log or value > 0

    def validate(self, name: str) -> None:
        """Beyond finite numbers and sigma > 0: every value within GAUSSIAN_REACH sigmas of mu must be
        a finite float, for a lognormal exp of it too (finite and above 0, so that log maps it back)."""
        _check_numbers(self, name, "[mu, sigma, q]" if self.quantized else "[mu, sigma]")
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
        _check_quantum(self, name, math.exp(extent) if self.log else extent)
        super().validate(name)


class Normal(_Gaussian):
    type_name = "normal"

    def __init__(self, mu: float, sigma: float, default: Any = _NO_DEFAULT):
        super().__init__(mu, sigma, None, default)


class QNormal(_Gaussian):
    type_name = "qnormal"
    quantized = True


class LogNormal(_Gaussian):
    type_name = "lognormal"
    log = True

    def __init__(self, mu: float, sigma: float, default: Any = _NO_DEFAULT):
        super().__init__(mu, sigma, None, default)


class QLogNormal(_Gaussian):
    type_name = "qlognormal"
    log = True
    quantized = True


DISTRIBUTIONS: dict[str, type[Distribution]] = {
    cls.type_name: cls
    for cls in (Choice, RandInt, Uniform, QUniform, LogUniform, QLogUniform, Normal, QNormal, LogNormal, QLogNormal)
}


def _from_nni(path: tuple[str, ...], spec: Any) -> Distribution:
    """The distribution of the parameter at ``path`` (parameter, branch, parameter, ... names)."""
    name = ".".join(path)
    # A parameter sits inside len(path) // 2 choices (an at.choice's own path lacks its name);
    # a declared choice brings its own levels. Checked before parsing deeper, so JSON recursion stops here.
    depth = len(path) // 2 + (spec.nesting if isinstance(spec, Choice) else 0)
    if depth > MAX_NESTING:
        raise SearchSpaceError(
            f"{name}: choices nest {depth} levels deep here; at most MAX_NESTING = {MAX_NESTING} are allowed"
        )
    if isinstance(spec, Distribution):
        return spec
    if not isinstance(spec, Mapping) or "_type" not in spec or "_value" not in spec:
        raise SearchSpaceError(
            f'{name}: a parameter is {{"_type": ..., "_value": [...]}} or an at.<type>(...) declaration, '
            f"got {spec!r}"
        )
    extra = set(spec) - {"_type", "_value", "_default"}
    if extra:
        raise SearchSpaceError(f"{name}: unknown keys {sorted(extra)!r}; allowed are _type, _value, _default")
    type_name = spec["_type"]
    cls = DISTRIBUTIONS.get(type_name) if isinstance(type_name, str) else None
    if cls is None:
        raise SearchSpaceError(
            f"{name}: unknown _type {type_name!r}; valid types are {', '.join(DISTRIBUTIONS)}"
        )
    value = spec["_value"]
    if not isinstance(value, (list, tuple)):
        raise SearchSpaceError(f"{name}: _value of {type_name} must be a list, got {value!r}")
    default = spec.get("_default", _NO_DEFAULT)
    if cls is Choice:
        return Choice(value, default=default, _path=path)
    arity = 2 if cls in (RandInt, Uniform, LogUniform, Normal, LogNormal) else 3
    if len(value) != arity:
        raise SearchSpaceError(
            f"{name}: {type_name} needs {arity} values in _value, got {len(value)}: {list(value)!r}"
        )
    return cls(*value, default=default)


@dataclasses.dataclass(frozen=True)
class Dimension:
    """One flattened parameter: its path in the configuration and when it is active.

    ``path`` is ``("lr",)`` for a top-level parameter and ``("layer", "Conv", "kernel")`` for a
    parameter of a nested choice branch. ``conditions`` lists ``(choice_dimension_index,
    option_index)`` pairs that must all hold for this dimension to be active.
    """

    path: tuple[str, ...]
    distribution: Distribution
    conditions: tuple[tuple[int, int], ...] = ()

    @property
    def key(self) -> str:
        return "/".join(self.path)


class SearchSpace(Mapping[str, Distribution]):
    """An ordered, validated mapping of parameter names to distributions.

    Build it from NNI's JSON dict (``SearchSpace({"lr": {"_type": "loguniform", "_value": [...]}})``),
    from Python declarations (``SearchSpace({"lr": at.loguniform(1e-4, 1e-1)})``) or a mix of both.

    Example:
        >>> space = SearchSpace({"lr": {"_type": "loguniform", "_value": [1e-4, 0.1]}})
        >>> cfg = space.sample(np.random.default_rng(0))
        >>> space.contains(cfg)
        True
    """

    def __init__(self, spec: Mapping[str, Any] | "SearchSpace", *, _path: tuple[str, ...] = ()):
        if isinstance(spec, SearchSpace):
            spec = spec.params
        if not isinstance(spec, Mapping):
            raise SearchSpaceError(
                f"a search space is a dict of parameter name -> distribution, got {type(spec).__name__}"
            )
        self.params: dict[str, Distribution] = {}
        for name, param in spec.items():
            if not isinstance(name, str) or not name:
                raise SearchSpaceError(f"parameter names must be non-empty strings, got {name!r}")
            self.params[name] = _from_nni((*_path, name), param)
        #: Levels of nested choices in this space (0: none).
        self.nesting = max((d.nesting for d in self.params.values() if isinstance(d, Choice)), default=0)
        if not _path:
            self.validate()
        self._dimensions: list[Dimension] | None = None

    # --- construction / serialisation ------------------------------------------------------
    @classmethod
    def from_json(cls, text_or_path: str) -> "SearchSpace":
        """Read an NNI search-space JSON document (a string, or a path to a ``.json`` file)."""
        text = text_or_path
        if not text_or_path.lstrip().startswith("{"):
            try:
                with open(text_or_path, encoding="utf-8") as f:
                    text = f.read()
            except OSError as exc:
                raise SearchSpaceError(f"cannot read search-space file {text_or_path!r}: {exc}") from None
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise SearchSpaceError(f"search space is not valid JSON ({exc}); NNI's form is "
                                   '{"lr": {"_type": "loguniform", "_value": [0.0001, 0.1]}}') from None
        return cls(data)

    def to_nni(self) -> dict:
        return {name: dist.to_nni() for name, dist in self.params.items()}

    def to_json(self) -> str:
        return json.dumps(self.to_nni())

    def validate(self, prefix: str = "") -> None:
        if not self.params and not prefix:
            raise SearchSpaceError("the search space is empty: declare at least one parameter")
        for name, dist in self.params.items():
            dist.validate(prefix + name)

    # --- Mapping protocol ------------------------------------------------------------------
    def __getitem__(self, name: str) -> Distribution:
        return self.params[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self.params)

    def __len__(self) -> int:
        return len(self.params)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SearchSpace) and self.to_nni() == other.to_nni()

    def __repr__(self) -> str:
        return f"SearchSpace({self.params!r})"

    # --- values ----------------------------------------------------------------------------
    def defaults(self) -> dict[str, Any]:
        return {name: dist.default for name, dist in self.params.items()}

    def sample(self, rng: np.random.Generator) -> dict[str, Any]:
        """One configuration; a nested choice samples only the chosen branch's sub-space."""
        config = {}
        for name, dist in self.params.items():
            value = dist.sample(rng)
            if isinstance(dist, Choice) and dist.is_nested:
                index = dist.index_of(value)
                if index in dist.subspaces:
                    value = {"_name": dist.option_label(index), **dist.subspaces[index].sample(rng)}
            config[name] = value
        return config

    def contains(self, config: Mapping[str, Any]) -> bool:
        """True when ``config`` has exactly this space's parameters, each a legal value."""
        return (
            isinstance(config, Mapping)
            and set(config) == set(self.params)
            and all(dist.contains(config[name]) for name, dist in self.params.items())
        )

    def grid(self) -> list[dict[str, Any]]:
        """Every configuration of a discrete space, in a deterministic order (the first parameter slowest)."""
        names = list(self.params)
        axes = []
        for name in names:
            try:
                axes.append(self.params[name].grid())
            except SearchSpaceError as exc:
                raise SearchSpaceError(f"{name}: {exc}") from None
        return [dict(zip(names, combo)) for combo in itertools.product(*axes)]

    def grid_size(self) -> int:
        return math.prod(len(self.params[n].grid()) for n in self.params)

    # --- flat view for numeric tuners --------------------------------------------------------
    @property
    def dimensions(self) -> list[Dimension]:
        """Every parameter, nested ones included, in a fixed order (parents before children)."""
        if self._dimensions is None:
            dims: list[Dimension] = []
            self._flatten(dims, (), ())
            self._dimensions = dims
        return self._dimensions

    def _flatten(self, dims: list[Dimension], prefix: tuple[str, ...], conditions: tuple) -> None:
        for name, dist in self.params.items():
            index = len(dims)
            dims.append(Dimension(prefix + (name,), dist, conditions))
            if isinstance(dist, Choice):
                for option_index, sub in dist.subspaces.items():
                    branch = prefix + (name, str(dist.option_label(option_index)))
                    sub._flatten(dims, branch, conditions + ((index, option_index),))

    def flatten(self, config: Mapping[str, Any]) -> dict[str, Any]:
        """``{dimension key: value}`` for the dimensions active in ``config``; choices by their value."""
        flat: dict[str, Any] = {}
        for dim in self.dimensions:
            value = _lookup(config, dim)
            if value is not _INACTIVE:
                flat[dim.key] = value
        return flat

    def encode(self, config: Mapping[str, Any]) -> np.ndarray:
        """The configuration as a point of the unit cube; inactive dimensions are NaN."""
        out = np.full(len(self.dimensions), np.nan)
        for i, dim in enumerate(self.dimensions):
            value = _lookup(config, dim)
            if value is not _INACTIVE:
                out[i] = dim.distribution.to_unit(value)
        return out

    def decode(self, point: Sequence[float]) -> dict[str, Any]:
        """The configuration at a unit-cube point (NaN in an active dimension means its default)."""
        values: list[Any] = []
        option_taken: list[int | None] = []
        for i, dim in enumerate(self.dimensions):
            active = all(option_taken[c] == o for c, o in dim.conditions)
            if not active:
                values.append(_INACTIVE)
                option_taken.append(None)
                continue
            u = point[i]
            dist = dim.distribution
            value = dist.from_unit(u) if np.isfinite(u) else dist.default
            if isinstance(dist, Choice):
                index = dist.index_of(value)
                value = dist.option_label(index)
                option_taken.append(index)
            else:
                option_taken.append(None)
            values.append(value)
        return _assemble(self.dimensions, values)


class _Inactive:
    def __repr__(self) -> str:
        return "<inactive>"


_INACTIVE = _Inactive()


def _lookup(config: Mapping[str, Any], dim: Dimension) -> Any:
    """The flat value of ``dim`` in a nested configuration, or _INACTIVE if its branch was not taken.

    The flat value of a choice is its option, or the ``_name`` of a nested option.
    """
    node: Any = config
    path = dim.path
    # Walk down: every (name, branch) pair on the way must be the branch taken.
    for depth in range(0, len(path) - 1, 2):
        name, branch = path[depth], path[depth + 1]
        if not isinstance(node, Mapping) or name not in node:
            return _INACTIVE
        node = node[name]
        if not isinstance(node, Mapping) or str(node.get("_name")) != branch:
            return _INACTIVE
    if not isinstance(node, Mapping) or path[-1] not in node:
        return _INACTIVE
    value = node[path[-1]]
    dist = dim.distribution
    if isinstance(dist, Choice) and isinstance(value, Mapping) and "_name" in value:
        return value["_name"]
    return value


def _assemble(dims: list[Dimension], values: list[Any]) -> dict[str, Any]:
    """Rebuild the nested configuration from flat per-dimension values."""
    config: dict[str, Any] = {}
    for dim, value in zip(dims, values):
        if value is _INACTIVE:
            continue
        node = config
        for depth in range(0, len(dim.path) - 1, 2):
            node = node[dim.path[depth]]
        dist = dim.distribution
        if isinstance(dist, Choice) and dist.index_of(value) in dist.subspaces:
            value = {"_name": value}
        node[dim.path[-1]] = value
    return config


# --- Python declarations: one function per NNI _type ----------------------------------------
def choice(options: Sequence[Any], *, default: Any = _NO_DEFAULT) -> Choice:
    """One of ``options`` (NNI ``choice``); a ``{"_name": ..., ...}`` option nests a sub-space."""
    return Choice(options, default=default)


def randint(low: int, high: int, *, default: Any = _NO_DEFAULT) -> RandInt:
    """An integer in ``[low, high)`` (NNI ``randint``: the upper bound is exclusive)."""
    return RandInt(low, high, default=default)


def uniform(low: float, high: float, *, default: Any = _NO_DEFAULT) -> Uniform:
    return Uniform(low, high, default=default)


def quniform(low: float, high: float, q: float, *, default: Any = _NO_DEFAULT) -> QUniform:
    """``clip(round(uniform(low, high) / q) * q, low, high)``."""
    return QUniform(low, high, q, default=default)


def loguniform(low: float, high: float, *, default: Any = _NO_DEFAULT) -> LogUniform:
    """``exp(uniform(log(low), log(high)))``; needs ``0 < low < high``."""
    return LogUniform(low, high, default=default)


def qloguniform(low: float, high: float, q: float, *, default: Any = _NO_DEFAULT) -> QLogUniform:
    return QLogUniform(low, high, q, default=default)


def normal(mu: float, sigma: float, *, default: Any = _NO_DEFAULT) -> Normal:
    return Normal(mu, sigma, default=default)


def qnormal(mu: float, sigma: float, q: float, *, default: Any = _NO_DEFAULT) -> QNormal:
    """``round(normal(mu, sigma) / q) * q`` (not clipped: a normal has no bounds)."""
    return QNormal(mu, sigma, q, default=default)


def lognormal(mu: float, sigma: float, *, default: Any = _NO_DEFAULT) -> LogNormal:
    """``exp(normal(mu, sigma))``."""
    return LogNormal(mu, sigma, default=default)


def qlognormal(mu: float, sigma: float, q: float, *, default: Any = _NO_DEFAULT) -> QLogNormal:
    return QLogNormal(mu, sigma, q, default=default)
