"""GridSearch and Batch: tuners that walk a fixed list of configurations once, in order.

Both ignore results and the seed, and return ``[]`` once the list is exhausted, which ends the study.
A configuration whose trial ended by itself (succeeded, failed, stopped early, timed out) is not run
again, so a resumed or warm-started study goes on where it was; one whose trial was interrupted
(CANCELED by a stop, lost with its process) is run again, before the rest of the list.
"""

from __future__ import annotations

import abc
import copy
import itertools
import json
import math
from typing import Any, Iterator, Mapping

from ..errors import UnsupportedSpaceError
from ..space import Distribution, SearchSpace
from ..trial import Trial
from .base import Tuner, config_key

GRID_TYPES = frozenset({"choice", "randint", "quniform", "qloguniform"})


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


class GridSearchTuner(_ListTuner):
    """Every configuration of ``space.grid()``, in its order (the first parameter slowest).

    Only discrete types have a grid: choice, randint, quniform and qloguniform. The grid is walked
    lazily, so a large one costs nothing until it is used.

    Example:
        >>> tuner = GridSearchTuner({"a": {"_type": "choice", "_value": [1, 2]},
        ...                          "b": {"_type": "randint", "_value": [0, 2]}})
        >>> tuner.suggest(10)
        [{'a': 1, 'b': 0}, {'a': 1, 'b': 1}, {'a': 2, 'b': 0}, {'a': 2, 'b': 1}]
    """

    supported_types = GRID_TYPES

    def __init__(self, space: SearchSpace | Mapping, *, optimize_mode: str = "maximize", seed: int | None = None):
        super().__init__(space, optimize_mode=optimize_mode, seed=seed)
        self.grid_size = math.prod(len(self.space[name].grid()) for name in self.space)

    def _configurations(self) -> Iterator[dict[str, Any]]:
        names = list(self.space)
        axes = [self.space[name].grid() for name in names]
        return (dict(zip(names, combo)) for combo in itertools.product(*axes))

    def _check_space(self) -> None:
        for dim in self.space.dimensions:
            if dim.distribution.type_name not in GRID_TYPES:
                raise UnsupportedSpaceError(
                    f"GridSearch cannot enumerate {dim.key!r} of type {dim.distribution!r}: only choice, "
                    "randint, quniform and qloguniform have a finite grid. Give it bounds and a step with "
                    "a q-type, quniform(low, high, q) or qloguniform(low, high, q), or list its values with choice"
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
