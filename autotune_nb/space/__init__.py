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

This package re-exports the public names; each module has one job:

* ``distribution``: the ``Distribution`` base class and the default's rule;
* ``rules``: the value rules the numeric types share (integral bounds, q rounding, number checks);
* ``choices``: ``choice`` and nested sub-spaces, and what tells its options apart;
* ``nas``: ``layer_choice`` and ``input_choice``;
* ``bounded``: ``randint`` and the uniform family; ``gaussian``: the normal family;
* ``nni_json``: NNI JSON into distributions, ``DISTRIBUTIONS`` and ``MAX_NESTING``;
* ``search_space``: ``SearchSpace``; ``dimensions``: its flat unit-cube view;
* ``constructors``: ``at.choice``, ``at.uniform``, ... (one function per type).
"""

from __future__ import annotations

from .bounded import LogUniform, QLogUniform, QUniform, RandInt, Uniform
from .choices import Choice
from .constructors import (
    choice,
    input_choice,
    layer_choice,
    lognormal,
    loguniform,
    normal,
    qlognormal,
    qloguniform,
    qnormal,
    quniform,
    randint,
    uniform,
)
from .dimensions import Dimension
from .distribution import Distribution
from .gaussian import GAUSSIAN_REACH, LogNormal, Normal, QLogNormal, QNormal
from .nas import InputChoice, LayerChoice
from .nni_json import DISTRIBUTIONS, MAX_NESTING
from .search_space import SearchSpace

__all__ = [
    "SearchSpace", "Dimension", "Distribution", "DISTRIBUTIONS", "MAX_NESTING", "GAUSSIAN_REACH",
    "Choice", "RandInt", "Uniform", "QUniform", "LogUniform", "QLogUniform",
    "Normal", "QNormal", "LogNormal", "QLogNormal", "LayerChoice", "InputChoice",
    "choice", "randint", "uniform", "quniform", "loguniform", "qloguniform",
    "normal", "qnormal", "lognormal", "qlognormal", "layer_choice", "input_choice",
]
