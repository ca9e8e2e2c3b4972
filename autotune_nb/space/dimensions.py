"""The flat view of a space for numeric tuners (GP, evolution, TPE): every parameter, nested ones
included, as a ``Dimension`` (a path such as ``("layer", "Conv", "kernel")``, active only when its
enclosing choices took its branch), and configurations to and from flat values and the unit cube."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any, Mapping, Sequence

import numpy as np

from .bounded import _Bounded
from .choices import Choice
from .distribution import Distribution

if TYPE_CHECKING:
    from .search_space import SearchSpace


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


class _Inactive:
    def __repr__(self) -> str:
        return "<inactive>"


#: The value of a dimension whose branch a configuration did not take.
_INACTIVE = _Inactive()


def dimensions_of(space: SearchSpace) -> list[Dimension]:
    """Every parameter of ``space``, nested ones included, in a fixed order (parents before children)."""
    dims: list[Dimension] = []
    _flatten(space, dims, (), ())
    return dims


def _flatten(space: SearchSpace, dims: list[Dimension], prefix: tuple[str, ...], conditions: tuple) -> None:
    for name, dist in space.params.items():
        index = len(dims)
        dims.append(Dimension(prefix + (name,), dist, conditions))
        if isinstance(dist, Choice):
            for option_index, sub in dist.subspaces.items():
                branch = prefix + (name, str(dist.option_label(option_index)))
                _flatten(sub, dims, branch, conditions + ((index, option_index),))


def flat_values(dims: list[Dimension], config: Mapping[str, Any]) -> dict[str, Any]:
    """``{dimension key: value}`` for the dimensions active in ``config``; choices by their value."""
    flat: dict[str, Any] = {}
    for dim in dims:
        value = _lookup(config, dim)
        if value is not _INACTIVE:
            flat[dim.key] = value
    return flat


def encode(dims: list[Dimension], config: Mapping[str, Any]) -> np.ndarray:
    """The configuration as a point of the unit cube; inactive dimensions are NaN."""
    out = np.full(len(dims), np.nan)
    for i, dim in enumerate(dims):
        value = _lookup(config, dim)
        if value is not _INACTIVE:
            out[i] = dim.distribution.to_unit(value)
    return out


def encode_many(dims: list[Dimension], configs: Sequence[Mapping[str, Any]]) -> np.ndarray:
    """``encode`` of each configuration, one row each, column by column: a value repeated in a
    dimension (a choice's option, a q-type's step) is converted once (the live dashboard encodes
    hundreds of trials per refresh)."""
    out = np.full((len(configs), len(dims)), np.nan)
    for j, dim in enumerate(dims):
        values = [_lookup(config, dim) for config in configs]
        rows = [i for i, value in enumerate(values) if value is not _INACTIVE]
        active = [values[i] for i in rows]
        dist = dim.distribution
        out[rows, j] = dist.to_units(active) if isinstance(dist, _Bounded) else _each_once(dist.to_unit, active)
    return out


def _each_once(to_unit, values: list) -> list[float]:
    """``to_unit`` of each value, computed once per distinct value (by type too: a choice tells the
    option 1 from True)."""
    known: dict = {}
    units = []
    for value in values:
        key = (type(value), value)
        try:
            unit = known[key]
        except KeyError:
            unit = known[key] = to_unit(value)
        except TypeError:  # unhashable: converted each time
            unit = to_unit(value)
        units.append(unit)
    return units


def decode(dims: list[Dimension], point: Sequence[float]) -> dict[str, Any]:
    """The configuration at a unit-cube point (NaN in an active dimension means its default)."""
    values: list[Any] = []
    option_taken: list[int | None] = []
    for i, dim in enumerate(dims):
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
    return _assemble(dims, values)


def unflatten(dims: list[Dimension], flat: Mapping[str, Any]) -> dict[str, Any]:
    """The nested configuration of ``flat_values``' form: ``{dimension key: value}`` of the active
    dimensions, a choice by its option (a nested one by its ``_name``)."""
    return _assemble(dims, [flat.get(dim.key, _INACTIVE) for dim in dims])


def _lookup(config: Mapping[str, Any], dim: Dimension) -> Any:
    """The flat value of ``dim`` in a nested configuration, or _INACTIVE if its branch was not taken.

    The flat value of a choice is its option, or the ``_name`` of a nested option.
    """
    path = dim.path
    if len(path) == 1:  # a top-level parameter, the common case: no branch to walk (encode runs per trial)
        value = config.get(path[0], _INACTIVE)
    else:
        node: Any = config
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
    if isinstance(dim.distribution, Choice) and isinstance(value, Mapping) and "_name" in value:
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
