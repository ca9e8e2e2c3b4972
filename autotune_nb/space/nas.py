"""NNI's classic NAS search types, as categorical parameters (each a ``Choice`` with fixed options, so
every tuner that searches a choice searches them too):

* ``layer_choice``: ``_value`` is the list of candidate layer names; a value is one name.
* ``input_choice``: ``_value`` is ``{"candidates": [...], "n_chosen": k}``; a value is the list of the
  ``k`` chosen candidate names, in the candidates' order. Its options are the C(n, k) subsets, at most
  ``MAX_INPUT_SUBSETS``.
"""

from __future__ import annotations

import math
from itertools import combinations
from typing import Any, Mapping, Sequence

import numpy as np

from ..errors import SearchSpaceError
from ..numeric import is_integer
from .choices import Choice
from .distribution import NO_DEFAULT, Distribution

#: The most subsets an input_choice may have: its options are enumerated for the tuners.
MAX_INPUT_SUBSETS = 10_000


def _check_names(name: str, type_name: str, candidates: Any) -> None:
    """Candidates are a non-empty list of distinct non-empty strings (the names of layers or inputs)."""
    if isinstance(candidates, (str, bytes)) or not isinstance(candidates, Sequence) or not candidates:
        raise SearchSpaceError(
            f"{name}: {type_name} candidates must be a non-empty list of names, got {candidates!r}"
        )
    for i, candidate in enumerate(candidates):
        if not isinstance(candidate, str) or not candidate:
            raise SearchSpaceError(
                f"{name}: {type_name} candidates must be non-empty strings (names), got candidate {i}: {candidate!r}"
            )
    if len(set(candidates)) != len(candidates):
        repeated = next(c for c in candidates if list(candidates).count(c) > 1)
        raise SearchSpaceError(f"{name}: {type_name} candidates must be distinct, got {repeated!r} twice")


class _FixedChoice(Choice):
    """A choice whose options are computed from ``_value`` and never nest a sub-space."""

    def __init__(self, default: Any):
        Distribution.__init__(self, default)
        self.options: list[Any] = []
        self.subspaces = {}
        self.nesting = 0

    def __repr__(self) -> str:
        extra = f", default={self._default!r}" if self.has_explicit_default else ""
        return f"{self.type_name}({self.nni_value()!r}{extra})"


class LayerChoice(_FixedChoice):
    """One of the candidate layers, by name (NNI's ``layer_choice``)."""

    type_name = "layer_choice"

    def __init__(self, candidates: Sequence[str], default: Any = NO_DEFAULT):
        super().__init__(default)
        self.candidates = candidates

    def nni_value(self) -> Any:
        return list(self.candidates) if isinstance(self.candidates, (list, tuple)) else self.candidates

    def validate(self, name: str) -> None:
        _check_names(name, self.type_name, self.candidates)
        self.options = list(self.candidates)
        super().validate(name)


class InputChoice(_FixedChoice):
    """``n_chosen`` of the candidate inputs (NNI's ``input_choice``): a list of names in candidate order."""

    type_name = "input_choice"

    def __init__(self, spec: Mapping[str, Any], default: Any = NO_DEFAULT):
        super().__init__(default)
        self.spec = spec

    def nni_value(self) -> Any:
        return dict(self.spec) if isinstance(self.spec, Mapping) else self.spec

    @property
    def candidates(self) -> list[str]:
        return list(self.spec["candidates"])

    @property
    def n_chosen(self) -> int:
        return int(self.spec["n_chosen"])

    def validate(self, name: str) -> None:
        spec = self.spec
        if not isinstance(spec, Mapping) or set(spec) != {"candidates", "n_chosen"}:
            raise SearchSpaceError(
                f'{name}: input_choice needs _value {{"candidates": [names], "n_chosen": k}}, got {spec!r}'
            )
        _check_names(name, self.type_name, spec["candidates"])
        size, k = len(spec["candidates"]), spec["n_chosen"]
        if not is_integer(k) or not 1 <= k <= size:
            raise SearchSpaceError(
                f"{name}: input_choice n_chosen must be an integer in [1, {size}] (the number of candidates), "
                f"got {k!r}"
            )
        subsets = math.comb(size, int(k))
        if subsets > MAX_INPUT_SUBSETS:
            raise SearchSpaceError(
                f"{name}: input_choice has C({size}, {k}) = {subsets} subsets; at most MAX_INPUT_SUBSETS = "
                f"{MAX_INPUT_SUBSETS} are allowed (tuners enumerate them)"
            )
        self.options = [list(subset) for subset in combinations(self.candidates, self.n_chosen)]
        super().validate(name)

    # Options are lists: every value handed out is a copy, so that no trial's params share one.
    def natural_default(self) -> list:
        return list(self.options[0])

    def sample(self, rng: np.random.Generator) -> list:
        return list(super().sample(rng))

    def from_unit(self, u: float) -> list:
        return list(super().from_unit(u))

    def grid(self) -> list:
        return [list(option) for option in self.options]
