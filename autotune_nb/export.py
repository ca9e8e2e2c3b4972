"""Study JSON documents: the interchange format between sessions, machines and the JupyterLab renderer.

A document is ``{"format": "autotune-study", "version": 1, ...}`` with the study's settings (space,
tuner, assessor, direction, seed) and every trial. Reading one parses JSON, checks each field and
builds the named tuner and assessor from this package's registries, as a Study would, so that whatever
a study would refuse is refused while reading, before any store is written. It never unpickles or
evaluates anything from the document, so a document from anywhere is safe to open.

Values are written by ``codec.py`` (the store's codec too): non-finite floats tagged, numpy values
as plain numbers, anything JSON cannot hold as its ``repr``.

Example:
    >>> write_json("study.json", study.config, study.trials, state="finished")
    >>> config, trials = read_json("study.json")
"""

from __future__ import annotations

import collections
import datetime
import json
import os
import tempfile
from typing import Any, Callable, Mapping, Sequence

from .codec import decode_json, jsonable
from ._version import __version__
from .config import StudyConfig
from .directives import Directives, directives_from_json
from .errors import AutotuneError, ExportFormatError, SearchSpaceError
from .numeric import is_integer
from .space import MAX_NESTING, SearchSpace
from .trial import InvalidResultError, Trial, TrialState, finite_number
from .vocabulary import DIRECTIONS, STUDY_STATES

FORMAT = "autotune-study"
VERSION = 1

#: The deepest lists and objects may nest in a document: room for a space of MAX_NESTING nested
#: choices (3 levels each) and the values inside it, well below Python's recursion limit.
MAX_DEPTH = 3 * MAX_NESTING + 32


# --- writing -------------------------------------------------------------------------------------
def trial_to_dict(trial: Trial) -> dict[str, Any]:
    """A trial's object; ``directives`` (budget, bracket/rung, parent) only where the tuner gave any:
    an optional field, which readers of version 1 that predate it ignore without misreading the rest."""
    data = {
        "number": trial.number,
        "params": jsonable(trial.params),
        "state": trial.state.value,
        "value": None if trial.value is None else jsonable(float(trial.value)),
        "metrics": jsonable(trial.metrics),
        "intermediates": [[step, jsonable(float(value))] for step, value in trial.intermediates],
        "started_at": trial.started_at,
        "finished_at": trial.finished_at,
        "duration": trial.duration,
        "slot": trial.slot,
        "gpu": trial.gpu,
        "error": trial.error,
        "reason": trial.reason,
    }
    if trial.directives is not None:
        data["directives"] = trial.directives.to_json()
    return data


def study_to_document(config: StudyConfig, trials: Sequence[Trial], *,
                      state: str | None = None) -> dict[str, Any]:
    """The version-1 document of a study. ``state`` is one of running, finished, stopped, failed."""
    if state is not None and state not in STUDY_STATES:
        raise ExportFormatError(f"study state must be one of {', '.join(STUDY_STATES)}, got {state!r}")
    return {
        "format": FORMAT,
        "version": VERSION,
        "exported_at": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "autotune_nb_version": __version__,
        "study": {
            "name": config.name,
            "state": state,
            "direction": config.direction,
            "seed": config.seed,
            "space": jsonable(config.space),
            "tuner": {"name": config.tuner, "args": jsonable(config.tuner_args)},
            "assessor": (None if config.assessor is None
                         else {"name": config.assessor, "args": jsonable(config.assessor_args)}),
        },
        "trials": [trial_to_dict(trial) for trial in sorted(trials, key=lambda t: t.number)],
    }


def write_json(path: str | os.PathLike, config: StudyConfig, trials: Sequence[Trial], *,
               state: str | None = None) -> None:
    """Write the study's document to ``path`` atomically (a reader never sees half a file)."""
    document = study_to_document(config, trials, state=state)
    folder = os.path.dirname(os.path.abspath(path))
    try:
        handle, temporary = tempfile.mkstemp(dir=folder, prefix=".autotune-", suffix=".json")
    except OSError as exc:  # name the file asked for, not the temporary one
        raise OSError(exc.errno, f"cannot write {os.fspath(path)!r}: {exc.strerror}") from None
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as f:
            json.dump(document, f, allow_nan=False, indent=1)
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise


# --- reading -------------------------------------------------------------------------------------
class _Fields:
    """Checks a parsed document field by field; every error names the file, the field and the rule."""

    def __init__(self, path: str):
        self.path = path

    def fail(self, where: str, rule: str, value: Any, *, index: int | None = None) -> ExportFormatError:
        """The error for field ``where``; ``index``: the item of that list which broke the rule."""
        shown = repr(value)
        shown = shown if len(shown) <= 80 else shown[:77] + "..."
        at = "" if index is None else f" (item {index})"
        return ExportFormatError(f"{self.path}: field {where!r} must be {rule}, got {shown}{at}")

    def get(self, obj: Mapping, key: str, where: str, rule: str, check: Callable[[Any], bool],
            *, optional: bool = False) -> Any:
        label = f"{where}.{key}" if where else key
        if key not in obj:
            if optional:
                return None
            raise ExportFormatError(f"{self.path}: field {label!r} is missing; it must be {rule}")
        value = obj[key]
        if not check(value):
            raise self.fail(label, rule, value)
        return value


def _is_finite_number(x: Any) -> bool:
    """The rule for a trial's value and reports, in a document as from a live trial: a finite number
    (``trial.finite_number``: no NaN, infinity, bool, string, nor int beyond the float range)."""
    try:
        finite_number(x, what="the value")
    except InvalidResultError:
        return False
    return True


def _or_none(check: Callable[[Any], bool]) -> Callable[[Any], bool]:
    return lambda x: x is None or check(x)


def _is_dict(x: Any) -> bool:
    return isinstance(x, dict)


def _is_str(x: Any) -> bool:
    return isinstance(x, str)


def _is_step_value(pair: Any) -> bool:
    return isinstance(pair, list) and len(pair) == 2 and is_integer(pair[0]) and _is_finite_number(pair[1])


_STATES = tuple(state.value for state in TrialState)
_TIME_RULE = "a number (seconds, finite) or null"
_VALUE_RULE = "a number or null (finite; null only for a trial that did not succeed)"


def _trial_from_dict(data: Any, where: str, fields: _Fields) -> Trial:
    """One trial, checked field by field. A SUCCEEDED trial needs a finite value: one NaN there would
    make the study's best value NaN for good (every comparison with NaN is false)."""
    if not isinstance(data, dict):
        raise fields.fail(where, "an object (one trial)", data)
    number = fields.get(data, "number", where, "an integer >= 0", lambda x: is_integer(x) and x >= 0)
    state = TrialState(fields.get(data, "state", where, f"one of {', '.join(_STATES)}", lambda x: x in _STATES))
    value = fields.get(data, "value", where, _VALUE_RULE,
                       lambda x: _is_finite_number(x) or (x is None and state is not TrialState.SUCCEEDED))
    rule = "a list of [step (integer), value (finite number)]"
    intermediates = fields.get(data, "intermediates", where, rule, lambda x: isinstance(x, list))
    for index, pair in enumerate(intermediates):
        if not _is_step_value(pair):
            raise fields.fail(f"{where}.intermediates", rule, pair, index=index)
    return Trial(
        number=number,
        params=fields.get(data, "params", where, "an object of parameter values", _is_dict),
        state=state,
        value=None if value is None else float(value),
        metrics=fields.get(data, "metrics", where, "an object of metric values", _is_dict),
        intermediates=tuple((step, float(v)) for step, v in intermediates),
        started_at=fields.get(data, "started_at", where, _TIME_RULE, _or_none(_is_finite_number)),
        finished_at=fields.get(data, "finished_at", where, _TIME_RULE, _or_none(_is_finite_number)),
        slot=fields.get(data, "slot", where, "an integer or null", _or_none(is_integer)),
        gpu=fields.get(data, "gpu", where, "a string or null", _or_none(_is_str)),
        error=fields.get(data, "error", where, "a string or null", _or_none(_is_str)),
        reason=fields.get(data, "reason", where, "a string or null", _or_none(_is_str)),
        directives=_directives(data, where, fields),
    )


def _directives(data: dict, where: str, fields: _Fields) -> Directives | None:
    """The optional ``directives`` object of a trial, checked field by field (directives.py)."""
    if data.get("directives") is None:
        return None
    try:
        return directives_from_json(data["directives"])
    except ValueError as exc:
        raise ExportFormatError(f"{fields.path}: field {where + '.directives'!r}: {exc}") from None


def _plugin(fields: _Fields, study: dict, key: str, *, optional: bool) -> tuple[str | None, dict]:
    rule = 'an object {"name": <string>, "args": {...}}' + (" or null" if optional else "")
    entry = fields.get(study, key, "study", rule, _or_none(_is_dict) if optional else _is_dict)
    if entry is None:
        return None, {}
    where = f"study.{key}"
    name = fields.get(entry, "name", where, "a non-empty string", lambda x: _is_str(x) and bool(x))
    return name, fields.get(entry, "args", where, "an object of classArgs", _is_dict)


def _config_from_dict(study: dict, fields: _Fields) -> StudyConfig:
    space = fields.get(study, "space", "study", "an object (NNI search space)", _is_dict)
    try:
        SearchSpace(space)
    except SearchSpaceError as exc:
        raise ExportFormatError(f"{fields.path}: field 'study.space' is not a valid search space: {exc}") from None
    tuner, tuner_args = _plugin(fields, study, "tuner", optional=False)
    assessor, assessor_args = _plugin(fields, study, "assessor", optional=True)
    fields.get(study, "state", "study", f"one of {', '.join(STUDY_STATES)} or null",
               lambda x: x is None or x in STUDY_STATES, optional=True)
    return StudyConfig(
        name=fields.get(study, "name", "study", "a non-empty string", lambda x: _is_str(x) and bool(x.strip())),
        space=space,
        tuner=tuner,
        tuner_args=tuner_args,
        assessor=assessor,
        assessor_args=assessor_args,
        direction=fields.get(study, "direction", "study", "'maximize' or 'minimize'",
                             lambda x: x in DIRECTIONS),
        seed=fields.get(study, "seed", "study", "an integer or null (>= 0)",
                        _or_none(lambda x: is_integer(x) and x >= 0)),
    )


def _tuner_space(config: StudyConfig, fields: _Fields) -> SearchSpace:
    """Build the document's tuner and assessor as a Study does, so that a document a study would
    refuse (unknown name, bad classArg, a space the tuner cannot search) is refused here, naming the
    field, before anything is written. Returns the tuner's space, where the trials' parameters come
    from (Batch's spans its configurations: it is not the study's)."""
    from .assessors import create_assessor
    from .tuners import create_tuner

    # A plugin may meet odd classArgs with a TypeError, ValueError or OverflowError of its own.
    refused = (AutotuneError, TypeError, ValueError, ArithmeticError)
    try:
        tuner = create_tuner(config.tuner, config.space, optimize_mode=config.direction, seed=config.seed,
                             class_args=config.tuner_args)
    except refused as exc:
        raise ExportFormatError(f"{fields.path}: field 'study.tuner' does not make a tuner here: {exc}") from None
    if config.assessor is not None:
        try:
            create_assessor(config.assessor, optimize_mode=config.direction, class_args=config.assessor_args)
        except refused as exc:
            raise ExportFormatError(
                f"{fields.path}: field 'study.assessor' does not make an assessor here: {exc}"
            ) from None
    return tuner.space


def _check_params(trial: Trial, space: SearchSpace, where: str, fields: _Fields) -> None:
    """Every trial's parameters are a configuration of the tuner's space (``Distribution.contains``)."""
    missing = [name for name in space if name not in trial.params]
    extra = [name for name in trial.params if name not in space]
    if missing or extra:
        raise fields.fail(f"{where}.params", f"an object of exactly the parameters {list(space)!r}",
                          dict(trial.params))
    for name, distribution in space.items():
        if not distribution.contains(trial.params[name]):
            raise fields.fail(f"{where}.params.{name}", f"a value of {distribution!r}", trial.params[name])


def _check_depth(document: Any, fields: _Fields) -> None:
    """Refuse lists and objects nested deeper than MAX_DEPTH, naming the field. Without a loop of its
    own, every later walk (the checks here, the store, a tuner comparing values) recurses once per
    level and could exhaust Python's recursion limit on a document that parsed."""
    stack: list[tuple[Any, int, Any]] = [(document, 0, None)]  # (value, depth, (parent entry, key))
    while stack:
        entry = stack.pop()
        value, depth, _ = entry
        if not isinstance(value, (dict, list)):
            continue
        if depth == MAX_DEPTH:
            keys = []
            while entry[2] is not None:
                entry, key = entry[2]
                keys.append(f"[{key}]" if isinstance(key, int) else f".{key}")
            where = "".join(reversed(keys)).lstrip(".")
            where = where if len(where) <= 80 else where[:77] + "..."
            raise ExportFormatError(
                f"{fields.path}: field {where!r} must nest lists and objects at most MAX_DEPTH = {MAX_DEPTH} "
                "levels deep, it goes deeper"
            )
        items = value.items() if isinstance(value, dict) else enumerate(value)
        stack.extend((child, depth + 1, (entry, key)) for key, child in items)


def _document_to_study(document: Any, path: str) -> tuple[StudyConfig, list[Trial], str | None]:
    """Check a document parsed by ``decode_json``'s rules and rebuild its config, trials (by number)
    and study state."""
    fields = _Fields(path)
    _check_depth(document, fields)
    if not isinstance(document, dict):
        raise fields.fail("<top level>", f'an object {{"format": "{FORMAT}", "version": {VERSION}, ...}}', document)
    fields.get(document, "format", "", repr(FORMAT), lambda x: x == FORMAT)
    version = fields.get(document, "version", "", f"an integer from 1 to {VERSION}", lambda x: is_integer(x) and x >= 1)
    if version > VERSION:
        raise ExportFormatError(
            f"{path}: format version {version} was written by a newer autotune_nb (this one reads up to "
            f"version {VERSION}); upgrade autotune_nb to read it"
        )
    study = fields.get(document, "study", "", "an object (the study's settings)", _is_dict)
    config = _config_from_dict(study, fields)
    raw_trials = fields.get(document, "trials", "", "a list of trials", lambda x: isinstance(x, list))
    trials = [_trial_from_dict(data, f"trials[{i}]", fields) for i, data in enumerate(raw_trials)]
    repeated = [number for number, count in collections.Counter(t.number for t in trials).items() if count > 1]
    if repeated:
        raise ExportFormatError(f"{path}: field 'trials' must hold each trial number once; {repeated[0]} repeats")
    space = _tuner_space(config, fields)
    for i, trial in enumerate(trials):
        _check_params(trial, space, f"trials[{i}]", fields)
    return config, sorted(trials, key=lambda t: t.number), study.get("state")


def read_json(path: str | os.PathLike) -> tuple[StudyConfig, list[Trial]]:
    """Read a study document written by ``write_json``: its config and trials (see ``read_study``)."""
    config, trials, _ = read_study(path)
    return config, trials


def read_study(path: str | os.PathLike) -> tuple[StudyConfig, list[Trial], str | None]:
    """Read a study document written by ``write_json``: its config, trials and state (running,
    finished, stopped, failed, or None where the writer did not say). Only parses JSON: never runs code.

    Raises ExportFormatError (naming the file and the field) for a file that is not JSON, another
    format, a newer format version, a missing or mistyped field, a non-finite result, parameters
    outside the space, or settings a Study would refuse: all of it checked before anything is written.
    """
    shown = os.fspath(path)
    try:
        with open(path, encoding="utf-8") as f:
            document = decode_json(f.read())
    except RecursionError:
        raise ExportFormatError(
            f"{shown}: not a JSON document Python can read (nested too deeply); expected an autotune_nb "
            "study export"
        ) from None
    except ValueError as exc:  # not JSON, not UTF-8, or an integer beyond Python's 4300 digits
        raise ExportFormatError(
            f"{shown}: not a JSON document ({exc}); expected an autotune_nb study export"
        ) from None
    return _document_to_study(document, shown)
