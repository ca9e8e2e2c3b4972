"""Per-trial directives: what a tuner tells one trial beyond its parameters.

Multi-fidelity and population tuners (Hyperband, BOHB, PBT) decide more than a configuration: how
much to train it (``budget``, in the unit the trial reports in, usually epochs), where it sits in
their schedule (``bracket`` and ``rung``, or a PBT ``generation`` and ``member``), and which earlier trial's
checkpoint it starts from (``parent``). ``Directives`` is that record, the one home of its fields
and of their JSON form (store column and export field alike).

How a tuner attaches them: ``Tuner.directives(config)`` answers for a configuration it has just
suggested (None for tuners without any); the run loop asks right after ``suggest`` and the study
keeps them on the ``Trial`` (``trial.directives``), so every finished trial tells its tuner where it
stood: a resumed study rebuilds the tuner's brackets and generations from its stored trials.

What a trial sees of them: ``at.budget`` and ``at.checkpoint_dir`` (None outside such a study), and
for NNI code the parameters ``TRIAL_BUDGET``, ``load_checkpoint_dir`` and ``save_checkpoint_dir``.
``resumed`` is set by the study, not the tuner: True when the parent's checkpoint was copied into
the trial's folder (a promotion that continues), False when there was none to copy (a rerun).
"""

from __future__ import annotations

import dataclasses
from typing import Any, Mapping

from .numeric import is_finite_real, is_integer

#: The parameter names NNI code reads (NNI's Hyperband and PBT pass them this way).
NNI_BUDGET = "TRIAL_BUDGET"
NNI_LOAD_CHECKPOINT = "load_checkpoint_dir"
NNI_SAVE_CHECKPOINT = "save_checkpoint_dir"


@dataclasses.dataclass(frozen=True)
class Directives:
    """A trial's budget and place in its tuner's schedule; every field optional."""

    budget: float | None = None
    bracket: int | None = None
    rung: int | None = None
    generation: int | None = None
    #: A PBT member's index in the population (its trials over the generations share it).
    member: int | None = None
    #: The trial whose checkpoint this one starts from (a promotion, or a PBT member's parent).
    parent: int | None = None
    resumed: bool | None = None

    def to_json(self) -> dict[str, Any]:
        """The fields that are set (the stored and exported form)."""
        return {field.name: getattr(self, field.name) for field in dataclasses.fields(self)
                if getattr(self, field.name) is not None}

    def replace(self, **changes: Any) -> "Directives":
        return dataclasses.replace(self, **changes)


_RULES = {
    "budget": ("a number > 0", lambda x: is_finite_real(x) and x > 0),
    "bracket": ("an integer >= 0", lambda x: is_integer(x) and x >= 0),
    "rung": ("an integer >= 0", lambda x: is_integer(x) and x >= 0),
    "generation": ("an integer >= 0", lambda x: is_integer(x) and x >= 0),
    "member": ("an integer >= 0", lambda x: is_integer(x) and x >= 0),
    "parent": ("an integer >= 0", lambda x: is_integer(x) and x >= 0),
    "resumed": ("true or false", lambda x: isinstance(x, bool)),
}


def directives_from_json(data: Any) -> Directives:
    """The record of ``to_json``'s form; raises ValueError naming the field and its rule."""
    if not isinstance(data, Mapping):
        raise ValueError(f"directives must be an object of {', '.join(_RULES)}, got {data!r}")
    unknown = sorted(set(data) - set(_RULES))
    if unknown:
        raise ValueError(f"unknown directive(s) {', '.join(map(repr, unknown))}: known are {', '.join(_RULES)}")
    for key, value in data.items():
        rule, check = _RULES[key]
        if value is not None and not check(value):
            raise ValueError(f"directive {key!r} must be {rule}, got {value!r}")
    values = dict(data)
    if values.get("budget") is not None:
        values["budget"] = float(values["budget"])
    return Directives(**values)
