"""Assessor registry, by NNI's names (case-insensitive). classArgs are keyword arguments.

Example:
    >>> assessor = create_assessor("medianstop", optimize_mode="minimize", start_step=5)
    >>> available_assessors()
    ['ASHA', 'Curvefitting', 'Medianstop']
"""

from __future__ import annotations

from typing import Any, Mapping

from ..class_args import check_names, from_config
from ..registry import Registry
from .base import Assessor, Decision

# Imported on first use: Curvefitting's scipy.optimize takes most of a second, which every Study
# would pay at import.
_REGISTRY: Registry[Assessor] = Registry("assessor", {
    "ASHA": "autotune_nb.assessors.asha:ASHA",
    "Curvefitting": "autotune_nb.assessors.curve_fitting:CurveFitting",
    "Medianstop": "autotune_nb.assessors.median_stop:MedianStop",
})


def available_assessors() -> list[str]:
    return _REGISTRY.names()


def assessor_class(name: str) -> type[Assessor]:
    return _REGISTRY.load(name)


def assessor_target(name: str) -> str:
    """The "module:Class" path of ``assessor_class(name)``, without importing it."""
    return _REGISTRY.target(name)


def __getattr__(name: str) -> type[Assessor]:
    """The assessor classes by their Python names (``CurveFitting``), imported on first use."""
    cls = _REGISTRY.by_class_name(name)
    if cls is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return cls


#: create_assessor's argument that a config may misplace in classArgs, and where it goes instead.
_SET_ELSEWHERE = {"name": "assessor= of the Study (--assessor in %%autotune)"}


def create_assessor(name: str, *, optimize_mode: str = "maximize", class_args: Mapping[str, Any] | None = None,
                    **kwargs: Any) -> Assessor:
    """Build the assessor NNI calls ``name``; unknown, missing or invalid classArgs are refused.

    classArgs come as keywords or, as a config holds them, as the mapping ``class_args``, which may
    repeat ``optimize_mode``: see ``class_args.from_config``.
    """
    cls = assessor_class(name)
    # A classArg given both ways is a TypeError, as a repeated keyword is.
    class_args = dict(**kwargs, **from_config(cls.name, class_args or {}, direction=optimize_mode,
                                              set_elsewhere=_SET_ELSEWHERE))
    check_names(cls.name, cls, class_args, not_class_args=())
    return cls(optimize_mode=optimize_mode, **class_args)


__all__ = [
    "ASHA", "Assessor", "CurveFitting", "Decision", "MedianStop", "assessor_class", "assessor_target", "available_assessors", "create_assessor",
]
