"""NNI's ``choice``: one of a list of options, an option ``{"_name": ..., ...}`` holding a nested
sub-space; and the rule that tells options apart (no NaN, no two alike to a tuner or in an export)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, Mapping, Sequence

import numpy as np

from ..errors import SearchSpaceError
from ..numeric import is_finite_real, is_real
from .distribution import NO_DEFAULT, Distribution

if TYPE_CHECKING:
    from .search_space import SearchSpace


class Choice(Distribution):
    """One of ``options``. An option that is a dict with ``_name`` holds a nested sub-space."""

    type_name = "choice"
    numeric = False

    def __init__(self, options: Sequence[Any], default: Any = NO_DEFAULT, *,
                 space_type: type[SearchSpace], _path: tuple[str, ...] = ()):
        """``space_type`` builds the sub-spaces (it is ``SearchSpace``, whose parameters are choices in
        turn: the caller names it, so that this module does not import it back)."""
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
                self.subspaces[i] = space_type(sub, _path=(*_path, str(option["_name"])))
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
        option) and after an export: so no NaN in them, and no two alike by ``_option_key``.
        One pass, one key per option: linear in the number of options."""
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
    return is_real(a) and is_real(b) and bool(a == b)  # exact: no float() of a huge int


def _contains_nan(value: Any) -> bool:
    """True for NaN or a list/tuple/dict holding one at any depth."""
    if is_real(value):
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
        if is_real(value):
            value = value.item() if isinstance(value, np.generic) else value
            if isinstance(value, int) and is_finite_real(value) and float(value) == value:
                return float(value)
            return value + 0.0 if isinstance(value, float) else value
        if isinstance(value, Mapping):
            return {str(k): canonical(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [canonical(v) for v in value]
        return value

    return json.dumps(canonical(label), sort_keys=True, default=repr)
