"""GridSearch and Batch: tuners that walk a fixed list of configurations once, in order.

Both ignore results and the seed, and return ``[]`` once the list is exhausted, which ends the study.
A configuration whose trial ended by itself (succeeded, failed, stopped early, timed out) is not run
again, so a resumed or warm-started study goes on where it was; one whose trial was interrupted
(CANCELED by a stop, lost with its process) is run again, before the rest of the list.
"""

from __future__ import annotations

import abc
import bisect
import copy
import json
import math
from typing import Any, Callable, Iterator, Mapping

from ..errors import UnsupportedSpaceError
from ..space import Choice, Distribution, RandInt, SearchSpace
from ..trial import Trial
from .base import Tuner, config_key

GRID_TYPES = frozenset({"choice", "randint", "quniform", "qloguniform", "layer_choice", "input_choice"})
#: The most points GridSearch walks: 10**8 trials take three years at one a second, and the keys of
#: the configurations that ran (kept to skip them on resume) several gigabytes.
MAX_GRID_POINTS = 10**8


class _ListTuner(Tuner):
    """Walks ``_configurations()`` once, skipping what already ran and running interrupted ones again."""

    def __init__(self, space: SearchSpace | Mapping, *, optimize_mode: str = "maximize", seed: int | None = None):
        super().__init__(space, optimize_mode=optimize_mode, seed=seed)
        self._walk = self._configurations()
        self._done: set[str] = set()
        self._retry: dict[str, dict[str, Any]] = {}

    @abc.abstractmethod
    def _configurations(self) -> Iterator[dict[str, Any]]:
        """The configurations, in the order they are run."""

    def _is_listed(self, config: Mapping[str, Any]) -> bool:
        """Whether ``config`` is one of ``_configurations()`` (an interrupted trial of a warm-start
        source may not be)."""
        return self.space.contains(dict(config))

    def _observe(self, trial: Trial) -> None:
        key = config_key(trial.params)
        if trial.interrupted:
            if key not in self._done and self._is_listed(trial.params):
                self._retry.setdefault(key, dict(trial.params))
        else:
            self._done.add(key)
            self._retry.pop(key, None)

    def _suggest(self, n: int) -> list[dict[str, Any]]:
        handed = {config_key(config) for config in self.pending}
        chosen: list[dict[str, Any]] = []
        while len(chosen) < n and self._retry:
            key, config = next(iter(self._retry.items()))
            del self._retry[key]
            if key not in handed:
                chosen.append(config)
                handed.add(key)
        while len(chosen) < n:
            config = next(self._walk, None)
            if config is None:
                break
            key = config_key(config)
            if key not in self._done and key not in handed and key not in self._retry:
                chosen.append(config)
                handed.add(key)
        # Nested branches are dicts shared by several grid points: hand out copies.
        return copy.deepcopy(chosen)


# --- the grid, computed point by point --------------------------------------------------------------
class _Axis(abc.ABC):
    """A parameter's grid values (``Distribution.grid()``) by index, without listing them."""

    size: int

    @abc.abstractmethod
    def value(self, index: int) -> Any:
        """``Distribution.grid()[index]``, for ``0 <= index < size``."""


class _Listed(_Axis):
    """A choice without nested branches: its options."""

    def __init__(self, options: list):
        self.options, self.size = options, len(options)

    def value(self, index: int) -> Any:
        return self.options[index]


class _Range(_Axis):
    """randint: the integers of [low, high)."""

    def __init__(self, dist: RandInt):
        self.low, self.size = int(dist.low), int(dist.high) - int(dist.low)

    def value(self, index: int) -> int:
        return self.low + index


class _Quantized(_Axis):
    """quniform / qloguniform: the sorted, distinct values of ``{finish(low), finish(high)} ∪
    {finish(k * q)}``, as ``Distribution.grid()`` lists them. ``finish(k * q)`` grows with k and lies
    between ``finish(low)`` and ``finish(high)``, so the ends come first and last, and only the
    multiples of q next to them can equal them."""

    def __init__(self, dist: Distribution):
        self._finish = dist._finish  # the distribution's own rounding, clipping and int conversion
        self.q = dist.q
        self.lowest, self.highest = self._finish(dist.low), self._finish(dist.high)
        # The multiples of q that Distribution.grid() takes, with its tolerances.
        self.first = math.ceil(dist.low / dist.q - 1e-9)
        last = math.floor(dist.high / dist.q + 1e-9)
        while self.first <= last and self._multiple(self.first) <= self.lowest:
            self.first += 1
        while self.first <= last and self._multiple(last) >= self.highest:
            last -= 1
        inner = max(last - self.first + 1, 0)
        self.size = 1 + inner + (self.highest != self.lowest)

    def _multiple(self, k: int) -> Any:
        return self._finish(k * self.q)

    def value(self, index: int) -> Any:
        if index == 0:
            return self.lowest
        return self.highest if index == self.size - 1 else self._multiple(self.first + index - 1)


class _Branches(_Axis):
    """A choice with nested branches: each plain option is one value, each branch the points of its
    sub-space's grid (as ``{"_name": label, **point}``), in the order of the options."""

    def __init__(self, dist: Choice):
        self._values: list[Callable[[int], Any]] = []
        self._starts: list[int] = []
        self.size = 0
        for i, option in enumerate(dist.options):
            if i in dist.subspaces:
                sub, label = Grid(dist.subspaces[i]), dist.option_label(i)
                count, value = sub.size, (lambda j, sub=sub, label=label: {"_name": label, **sub.point(j)})
            else:
                count, value = 1, (lambda j, option=option: option)
            self._starts.append(self.size)
            self._values.append(value)
            self.size += count

    def value(self, index: int) -> Any:
        branch = bisect.bisect_right(self._starts, index) - 1
        return self._values[branch](index - self._starts[branch])


def _axis(dist: Distribution) -> _Axis:
    if isinstance(dist, Choice):
        return _Branches(dist) if dist.is_nested else _Listed(dist.options)
    if isinstance(dist, RandInt):
        return _Range(dist)
    return _Quantized(dist)


class Grid:
    """``SearchSpace.grid()`` by index: ``point(i)`` is ``space.grid()[i]``, computed from i as a
    mixed-radix number whose digits index each parameter's values (the last parameter fastest), so
    a grid of any size costs only its parameters' descriptions."""

    def __init__(self, space: SearchSpace):
        self.names = list(space.params)
        self.axes = [_axis(space.params[name]) for name in self.names]
        self.size = math.prod(axis.size for axis in self.axes)

    def point(self, index: int) -> dict[str, Any]:
        if not 0 <= index < self.size:
            raise IndexError(f"grid point {index} of a grid of {self.size} points")
        values = []
        for axis in reversed(self.axes):
            index, digit = divmod(index, axis.size)
            values.append(axis.value(digit))
        return dict(zip(self.names, reversed(values)))


class GridSearchTuner(_ListTuner):
    """Every configuration of ``space.grid()``, in its order (the first parameter slowest).

    Only discrete types have a grid: choice, randint, quniform and qloguniform. Each point is
    computed from its index when it is suggested, so creating a tuner on a large grid is instant; a
    grid of more than ``MAX_GRID_POINTS`` points is refused.

    Example:
        >>> tuner = GridSearchTuner({"a": {"_type": "choice", "_value": [1, 2]},
        ...                          "b": {"_type": "randint", "_value": [0, 2]}})
        >>> tuner.suggest(10)
        [{'a': 1, 'b': 0}, {'a': 1, 'b': 1}, {'a': 2, 'b': 0}, {'a': 2, 'b': 1}]
    """

    supported_types = GRID_TYPES

    def __init__(self, space: SearchSpace | Mapping, *, optimize_mode: str = "maximize", seed: int | None = None):
        super().__init__(space, optimize_mode=optimize_mode, seed=seed)
        self.grid = Grid(self.space)
        self.grid_size = self.grid.size
        if self.grid_size > MAX_GRID_POINTS:
            sizes = " × ".join(f"{name!r}: {axis.size:,}" for name, axis in zip(self.grid.names, self.grid.axes))
            raise UnsupportedSpaceError(
                f"GridSearch: the grid has {self.grid_size:,} points ({sizes} values), more than "
                f"MAX_GRID_POINTS = {MAX_GRID_POINTS:,}: make a q larger, a range narrower or a choice "
                "shorter, or search this space with Random or TPE"
            )

    def _configurations(self) -> Iterator[dict[str, Any]]:
        # A generator: no point is computed before the first suggestion.
        for index in range(self.grid_size):
            yield self.grid.point(index)

    def _check_space(self) -> None:
        for dim in self.space.dimensions:
            if dim.distribution.type_name not in GRID_TYPES:
                raise UnsupportedSpaceError(
                    f"GridSearch cannot enumerate {dim.key!r} of type {dim.distribution!r}: only choice, "
                    "randint, quniform, qloguniform, layer_choice and input_choice have a finite grid. Give it "
                    "bounds and a step with a q-type, quniform(low, high, q) or qloguniform(low, high, q), "
                    "or list its values with choice"
                )



_BATCH_FORM = '{"params": {"_type": "choice", "_value": [{"lr": 0.1, "batch": 32}, {"lr": 0.01, "batch": 64}]}}'


class BatchTuner(_ListTuner):
    """NNI's BatchTuner: the space is one choice whose options are whole configurations, each
    suggested once, in order. ``self.space`` is the space those configurations span (one choice per
    parameter, of the values the options give it), so every suggestion is one of its legal values.

    Example:
        >>> tuner = BatchTuner({"params": {"_type": "choice", "_value": [{"lr": 0.1}, {"lr": 0.01}]}})
        >>> tuner.suggest(5)
        [{'lr': 0.1}, {'lr': 0.01}]
    """

    def __init__(self, space: SearchSpace | Mapping, *, optimize_mode: str = "maximize", seed: int | None = None):
        self._configs = _batch_configurations(space)
        self._listed = {config_key(config) for config in self._configs}
        super().__init__(_spanned_space(self._configs), optimize_mode=optimize_mode, seed=seed)

    def _configurations(self) -> Iterator[dict[str, Any]]:
        return iter(self._configs)

    def _is_listed(self, config: Mapping[str, Any]) -> bool:
        # The spanned space also contains combinations that no option lists.
        return config_key(config) in self._listed


def _batch_configurations(space: SearchSpace | Mapping) -> list[dict[str, Any]]:
    """The options of NNI's batch form, checked: one choice parameter, distinct plain dicts."""
    spec = space.to_nni() if isinstance(space, SearchSpace) else space
    if not isinstance(spec, Mapping) or len(spec) != 1:
        got = f"{len(spec)} parameters ({', '.join(map(repr, spec))})" if isinstance(spec, Mapping) else repr(spec)
        raise UnsupportedSpaceError(
            f"Batch takes exactly one parameter, a choice whose options are whole configurations, got {got}; "
            f"write {_BATCH_FORM}, or use GridSearch to combine several parameters"
        )
    [(name, param)] = spec.items()
    if isinstance(param, Distribution):
        param = param.to_nni()
    options = param.get("_value") if isinstance(param, Mapping) and param.get("_type") == "choice" else None
    if not isinstance(options, (list, tuple)) or not options:
        raise UnsupportedSpaceError(
            f"Batch: {name!r} must be a choice listing at least one configuration, got {param!r}; write {_BATCH_FORM}"
        )
    keys: dict[str, int] = {}
    for index, option in enumerate(options):
        if not isinstance(option, Mapping) or not option or "_name" in option:
            raise UnsupportedSpaceError(
                f"Batch: option {index} of {name!r} is {option!r}, not a configuration: each option is a "
                f"dict of parameter values (without '_name'), as in {_BATCH_FORM}"
            )
        key = json.dumps(option, sort_keys=True, default=repr)
        if key in keys:
            raise UnsupportedSpaceError(
                f"Batch: options {keys[key]} and {index} of {name!r} are the same configuration {option!r}: "
                "remove the copy (each configuration runs once)"
            )
        keys[key] = index
    return [dict(option) for option in options]


def _spanned_space(configs: list[dict[str, Any]]) -> SearchSpace:
    """One choice per parameter, of the distinct values the configurations give it, in order."""
    names = list(configs[0])
    values: dict[str, dict[str, Any]] = {name: {} for name in names}
    for index, config in enumerate(configs):
        if set(config) != set(names):
            raise UnsupportedSpaceError(
                f"Batch: option {index} sets {sorted(config)} but option 0 sets {sorted(names)}: every "
                "configuration must set the same parameters"
            )
        for name in names:
            values[name].setdefault(json.dumps(config[name], sort_keys=True, default=repr), config[name])
    return SearchSpace({name: {"_type": "choice", "_value": list(seen.values())} for name, seen in values.items()})
