"""The kernel's answers to the lab extension's "Tune this cell" form (labextension/src/tuneForm.ts).

The form evaluates ``answer(request)`` as a silent user expression; the request and the answer are
JSON, the answer shown as ``application/json`` so the form reads it without parsing Python. Two
requests:

* ``{"action": "describe", "line": ...}``: the form's fields as the cell's line gives them, and the
  registered tuners and assessors with the classArgs each takes (for the form's lists and hints);
* ``{"action": "write", "line": ..., "cell": ..., "fields": {...}}``: the line with the fields set
  (``magic_line.with_fields``) and the magic's verdict on it (``line_check.check_line``).
"""

from __future__ import annotations

import json
from typing import Any

from IPython.display import JSON

from .constructor_source import constructor_parameters
from .line_check import check_line
from .magic_line import form_fields, with_fields

#: Parameters of a tuner's or assessor's constructor that are not classArgs: the study fills them.
_FILLED_BY_THE_STUDY = {"self", "space", "seed", "optimize_mode"}


def answer(request: str) -> JSON:
    """The answer to one JSON ``request`` of the form."""
    message = json.loads(request)
    if message.get("action") == "describe":
        return JSON(describe(message.get("line", "")))
    if message.get("action") == "write":
        return JSON(write(message.get("line", ""), message.get("cell", ""), message.get("fields", {})))
    raise ValueError(f"unknown request {message.get('action')!r}: expected 'describe' or 'write'")


def describe(line: str) -> dict[str, Any]:
    """Cheap: the classArgs are read from each class's source, importing none (``constructor_source``)."""
    from ..assessors import assessor_target, available_assessors
    from ..tuners import available_tuners, tuner_target

    return {
        "fields": form_fields(line),
        "tuners": {name: _class_args_of(tuner_target(name)) for name in available_tuners()},
        "assessors": {name: _class_args_of(assessor_target(name)) for name in available_assessors()},
    }


def write(line: str, cell: str, fields: dict[str, str]) -> dict[str, Any]:
    """``{"ok": True, "line": ...}`` with the line to write, or ``{"ok": False, "line", "message"}``."""
    check = check_line(with_fields(line, fields), cell)
    return {"ok": check.ok, "line": check.line, "message": check.error}


def _class_args_of(target: str) -> dict[str, Any]:
    """``{"classArgs": [...]}`` for the class at ``target`` ("module:Class"), each classArg with its
    default as Python writes it (None: required); ``{"error": ...}`` when the class had to be imported
    and does not import, so that one broken plugin leaves the others in the form."""
    try:
        parameters = constructor_parameters(target)
    except (ImportError, AttributeError) as exc:
        return {"error": f"{target} does not import here: {exc}"}
    return {"classArgs": [
        {"name": p.name, "default": p.default}
        for p in parameters
        if p.keyword and p.name not in _FILLED_BY_THE_STUDY
    ]}
