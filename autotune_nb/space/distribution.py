"""The ``Distribution`` base class: what every NNI ``_type`` provides (its ``_value``, an optional
``_default``, sampling, the unit-cube mapping, membership, the grid) and the default's one rule."""

from __future__ import annotations

import abc
import json
from typing import Any

import numpy as np

from ..errors import SearchSpaceError

class _NoDefault:
    """The one "no default declared" marker; it stays that one object through pickle and deepcopy
    (a bare ``object()`` came back as another object, which then read as a declared default)."""

    def __repr__(self) -> str:
        return "NO_DEFAULT"

    def __reduce__(self) -> str:
        return "NO_DEFAULT"  # pickled by name: this module's NO_DEFAULT


#: The ``default`` of a distribution declared without one (``None`` is a legal choice option).
NO_DEFAULT = _NoDefault()


class Distribution(abc.ABC):
    """One parameter's distribution. Subclasses are one per NNI ``_type``."""

    type_name: str = ""
    #: True where the value is a number on a continuous (possibly quantized) axis.
    numeric: bool = True
    #: True where the distribution is defined on a log axis.
    log: bool = False

    def __init__(self, default: Any = NO_DEFAULT):
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
        return self._default is not NO_DEFAULT

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
