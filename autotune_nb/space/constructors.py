"""The Python declarations, one function per NNI ``_type`` (``at.choice``, ``at.uniform``, ...): each
builds that type's distribution, checked when a ``SearchSpace`` is made of it."""

from __future__ import annotations

from typing import Any, Sequence

from .bounded import LogUniform, QLogUniform, QUniform, RandInt, Uniform
from .choices import Choice
from .distribution import NO_DEFAULT
from .gaussian import LogNormal, Normal, QLogNormal, QNormal
from .nas import InputChoice, LayerChoice
from .search_space import SearchSpace


def choice(options: Sequence[Any], *, default: Any = NO_DEFAULT) -> Choice:
    """One of ``options`` (NNI ``choice``); a ``{"_name": ..., ...}`` option nests a sub-space."""
    return Choice(options, default=default, space_type=SearchSpace)


def randint(low: int, high: int, *, default: Any = NO_DEFAULT) -> RandInt:
    """An integer in ``[low, high)`` (NNI ``randint``: the upper bound is exclusive)."""
    return RandInt(low, high, default=default)


def uniform(low: float, high: float, *, default: Any = NO_DEFAULT) -> Uniform:
    return Uniform(low, high, default=default)


def quniform(low: float, high: float, q: float, *, default: Any = NO_DEFAULT) -> QUniform:
    """``clip(round(uniform(low, high) / q) * q, low, high)``."""
    return QUniform(low, high, q, default=default)


def loguniform(low: float, high: float, *, default: Any = NO_DEFAULT) -> LogUniform:
    """``exp(uniform(log(low), log(high)))``; needs ``0 < low < high``."""
    return LogUniform(low, high, default=default)


def qloguniform(low: float, high: float, q: float, *, default: Any = NO_DEFAULT) -> QLogUniform:
    return QLogUniform(low, high, q, default=default)


def normal(mu: float, sigma: float, *, default: Any = NO_DEFAULT) -> Normal:
    return Normal(mu, sigma, default=default)


def qnormal(mu: float, sigma: float, q: float, *, default: Any = NO_DEFAULT) -> QNormal:
    """``round(normal(mu, sigma) / q) * q`` (not clipped: a normal has no bounds)."""
    return QNormal(mu, sigma, q, default=default)


def lognormal(mu: float, sigma: float, *, default: Any = NO_DEFAULT) -> LogNormal:
    """``exp(normal(mu, sigma))``."""
    return LogNormal(mu, sigma, default=default)


def qlognormal(mu: float, sigma: float, q: float, *, default: Any = NO_DEFAULT) -> QLogNormal:
    return QLogNormal(mu, sigma, q, default=default)


def layer_choice(candidates: Sequence[str], *, default: Any = NO_DEFAULT) -> LayerChoice:
    """One of the candidate layers, by name (NNI's classic NAS ``layer_choice``)."""
    return LayerChoice(candidates, default=default)


def input_choice(candidates: Sequence[str], n_chosen: int = 1, *, default: Any = NO_DEFAULT) -> InputChoice:
    """``n_chosen`` of the candidate inputs (NNI's ``input_choice``): a list of names, in candidate order."""
    return InputChoice({"candidates": candidates, "n_chosen": n_chosen}, default=default)
