"""The JSON codec of stored and exported values: the one place that says how a trial's values
become JSON text and back, used by the SQLite store and by study documents.

JSON has no infinities nor NaN. A non-finite float is written as ``{"$float": "Infinity"}``
(``"-Infinity"``, ``"NaN"``) and read back as that float. Values JSON cannot hold at all (a model
object returned among a trial's metrics) are written as their ``repr``; numpy scalars and arrays as
plain numbers and lists; tuples as lists.
"""

from __future__ import annotations

import json
import math
from typing import Any, Mapping

import numpy as np

_FLOAT_TAG = "$float"
_NON_FINITE = {"Infinity": math.inf, "-Infinity": -math.inf, "NaN": math.nan}


# --- JSON values -----------------------------------------------------------------------------------
def _plain(value: Any) -> Any:
    """What JSON gets for a value it cannot hold itself (json's ``default`` hook)."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, Mapping):
        return dict(value)
    if isinstance(value, (set, frozenset)):
        return sorted(value, key=repr)
    return repr(value)


def _tag_float(value: float) -> Any:
    if math.isfinite(value):
        return value
    return {_FLOAT_TAG: "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")}


def jsonable(value: Any) -> Any:
    """``value`` made of JSON types only (dicts with str keys, lists, str, int, finite float,
    bool, None), non-finite floats tagged, anything else converted as the module docstring says."""
    if value is None or isinstance(value, (str, bool, int)):
        return value
    if isinstance(value, float):
        return _tag_float(value)
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    return jsonable(_plain(value))


def encode_json(value: Any) -> str:
    """Compact JSON text of ``value``; the common case (plain data) takes json's C fast path."""
    try:
        return json.dumps(value, allow_nan=False, separators=(",", ":"), default=_plain)
    except (ValueError, TypeError):  # a non-finite float, or a key json refuses
        return json.dumps(jsonable(value), allow_nan=False, separators=(",", ":"))


def _restore_float(obj: dict) -> Any:
    if len(obj) == 1 and obj.get(_FLOAT_TAG) in _NON_FINITE:
        return _NON_FINITE[obj[_FLOAT_TAG]]
    return obj


def decode_json(text: str) -> Any:
    """The inverse of ``encode_json`` (tagged non-finite floats become floats again)."""
    return json.loads(text, object_hook=_restore_float)
