"""Reading NNI's search-space JSON: a document (text or file) into a dict, and each parameter's
``{"_type": ..., "_value": [...], "_default": ...}`` (or an ``at.<type>(...)`` declaration) into its
``Distribution``, one level of nesting at a time, with the nesting limit checked on the way down.

Writing is each type's ``to_nni`` (``SearchSpace.to_nni`` / ``to_json`` for a whole space).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, Mapping

from ..errors import SearchSpaceError
from .bounded import LogUniform, QLogUniform, QUniform, RandInt, Uniform
from .choices import Choice
from .distribution import NO_DEFAULT, Distribution
from .gaussian import LogNormal, Normal, QLogNormal, QNormal
from .nas import InputChoice, LayerChoice

if TYPE_CHECKING:
    from .search_space import SearchSpace

#: The most choices a parameter may sit inside (a branch of a branch of ...). Every walk over a space
#: (validation, flattening, tuners) recurses once per level: 32 is far beyond any real model family
#: and far below Python's recursion limit.
MAX_NESTING = 32

#: NNI ``_type`` -> its class, in NNI's order (its classic NAS types last).
DISTRIBUTIONS: dict[str, type[Distribution]] = {
    cls.type_name: cls
    for cls in (Choice, RandInt, Uniform, QUniform, LogUniform, QLogUniform, Normal, QNormal, LogNormal, QLogNormal,
                LayerChoice, InputChoice)
}


def read_document(text_or_path: str) -> Any:
    """The parsed JSON of a search-space document: the text itself, or a path to a ``.json`` file."""
    text = text_or_path
    if not text_or_path.lstrip().startswith("{"):
        try:
            with open(text_or_path, encoding="utf-8") as f:
                text = f.read()
        except OSError as exc:
            raise SearchSpaceError(f"cannot read search-space file {text_or_path!r}: {exc}") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise SearchSpaceError(f"search space is not valid JSON ({exc}); NNI's form is "
                               '{"lr": {"_type": "loguniform", "_value": [0.0001, 0.1]}}') from None


def parse_params(spec: Any, path: tuple[str, ...], space_type: type[SearchSpace]) -> dict[str, Distribution]:
    """The parameters of a (sub-)space at ``path``: name -> distribution, in declaration order.
    A nested choice's sub-spaces are ``space_type`` (``SearchSpace``, which calls this: it names
    itself so that this module does not import it back)."""
    if not isinstance(spec, Mapping):
        raise SearchSpaceError(
            f"a search space is a dict of parameter name -> distribution, got {type(spec).__name__}"
        )
    params: dict[str, Distribution] = {}
    for name, param in spec.items():
        if not isinstance(name, str) or not name:
            raise SearchSpaceError(f"parameter names must be non-empty strings, got {name!r}")
        params[name] = from_nni((*path, name), param, space_type)
    return params


def from_nni(path: tuple[str, ...], spec: Any, space_type: type[SearchSpace]) -> Distribution:
    """The distribution of the parameter at ``path`` (parameter, branch, parameter, ... names)."""
    name = ".".join(path)
    # A parameter sits inside len(path) // 2 choices (an at.choice's own path lacks its name);
    # a declared choice brings its own levels. Checked before parsing deeper, so JSON recursion stops here.
    depth = len(path) // 2 + (spec.nesting if isinstance(spec, Choice) else 0)
    if depth > MAX_NESTING:
        raise SearchSpaceError(
            f"{name}: choices nest {depth} levels deep here; at most MAX_NESTING = {MAX_NESTING} are allowed"
        )
    if isinstance(spec, Distribution):
        return spec
    if not isinstance(spec, Mapping) or "_type" not in spec or "_value" not in spec:
        raise SearchSpaceError(
            f'{name}: a parameter is {{"_type": ..., "_value": [...]}} or an at.<type>(...) declaration, '
            f"got {spec!r}"
        )
    extra = set(spec) - {"_type", "_value", "_default"}
    if extra:
        raise SearchSpaceError(f"{name}: unknown keys {sorted(extra)!r}; allowed are _type, _value, _default")
    type_name = spec["_type"]
    cls = DISTRIBUTIONS.get(type_name) if isinstance(type_name, str) else None
    if cls is None:
        raise SearchSpaceError(
            f"{name}: unknown _type {type_name!r}; valid types are {', '.join(DISTRIBUTIONS)}"
        )
    value = spec["_value"]
    default = spec.get("_default", NO_DEFAULT)
    if cls is InputChoice:  # its _value is a dict, checked by its validate
        return InputChoice(value, default=default)
    if not isinstance(value, (list, tuple)):
        raise SearchSpaceError(f"{name}: _value of {type_name} must be a list, got {value!r}")
    if cls is Choice:
        return Choice(value, default=default, space_type=space_type, _path=path)
    if cls is LayerChoice:
        return LayerChoice(value, default=default)
    arity = 2 if cls in (RandInt, Uniform, LogUniform, Normal, LogNormal) else 3
    if len(value) != arity:
        raise SearchSpaceError(
            f"{name}: {type_name} needs {arity} values in _value, got {len(value)}: {list(value)!r}"
        )
    return cls(*value, default=default)
