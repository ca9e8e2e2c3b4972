"""Assessor registry, by NNI's names (case-insensitive). classArgs are keyword arguments.

Example:
    >>> assessor = create_assessor("medianstop", optimize_mode="minimize", start_step=5)
    >>> available_assessors()
    ['Curvefitting', 'Medianstop']
"""

from __future__ import annotations

import inspect
from typing import Any, Mapping

from ..class_args import from_config
from ..errors import ConfigurationError
from .base import Assessor, Decision
from .curve_fitting import CurveFitting
from .median_stop import MedianStop

_REGISTRY: dict[str, type[Assessor]] = {cls.name.lower(): cls for cls in (CurveFitting, MedianStop)}


def available_assessors() -> list[str]:
    return sorted(cls.name for cls in _REGISTRY.values())


#: create_assessor's argument that a config may misplace in classArgs, and where it goes instead.
_SET_ELSEWHERE = {"name": "assessor= of the Study (--assessor in %%autotune)"}


def create_assessor(name: str, *, optimize_mode: str = "maximize", class_args: Mapping[str, Any] | None = None,
                    **kwargs: Any) -> Assessor:
    """Build the assessor NNI calls ``name``; unknown, missing or invalid classArgs are refused.

    classArgs come as keywords or, as a config holds them, as the mapping ``class_args``, which may
    repeat ``optimize_mode``: see ``class_args.from_config``.
    """
    cls = _REGISTRY.get(name.lower()) if isinstance(name, str) else None
    if cls is None:
        raise ConfigurationError(
            f"unknown assessor {name!r}; valid names are {', '.join(available_assessors())} "
            "(case-insensitive)"
        )
    # A classArg given both ways is a TypeError, as a repeated keyword is.
    class_args = dict(**kwargs, **from_config(cls.name, class_args or {}, direction=optimize_mode,
                                              set_elsewhere=_SET_ELSEWHERE))
    _check_class_args(cls, class_args)
    return cls(optimize_mode=optimize_mode, **class_args)


def _check_class_args(cls: type[Assessor], class_args: dict[str, Any]) -> None:
    parameters = inspect.signature(cls).parameters
    valid = [arg for arg in parameters if arg != "optimize_mode"]
    for arg, value in class_args.items():
        if arg not in parameters:
            raise ConfigurationError(
                f"{cls.name}: unknown classArg {arg!r} (= {value!r}); valid classArgs are "
                f"{', '.join(valid)}"
            )
    for arg, parameter in parameters.items():
        if parameter.default is inspect.Parameter.empty and arg not in class_args:
            raise ConfigurationError(f"{cls.name}: classArg {arg!r} is required")


__all__ = [
    "Assessor", "CurveFitting", "Decision", "MedianStop", "available_assessors", "create_assessor",
]
