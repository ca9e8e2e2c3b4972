"""A registered class's constructor parameters, read from its module's source without importing it.

The "Tune this cell" form lists every tuner's and assessor's classArgs (``tune_form.describe``).
Importing every registered class for that loads hyperopt, scipy, torch and the like: tens of
seconds on a busy machine. The constructor's signature in the source is the one home of the
names and defaults, so it is read with ``ast`` instead; a class whose ``__init__`` the source does
not show (inherited from another module, made by a decorator, a module without Python source) is
imported and inspected as before.
"""

from __future__ import annotations

import ast
import dataclasses
import importlib
import importlib.util
import inspect
from pathlib import Path


@dataclasses.dataclass(frozen=True)
class Parameter:
    """``default``: the default as Python writes it, None when the parameter is required."""

    name: str
    default: str | None
    keyword: bool  # False for *args and **kwargs, which no classArg names


def constructor_parameters(target: str) -> list[Parameter]:
    """The parameters of ``__init__`` of the class at ``target`` ("module:Class"), ``self`` included.
    Raises ImportError when the class had to be imported and does not import."""
    module_name, _, class_name = target.partition(":")
    return _from_source(module_name, class_name) or _from_class(getattr(importlib.import_module(module_name), class_name))


def _from_source(module_name: str, class_name: str) -> list[Parameter] | None:
    try:
        spec = importlib.util.find_spec(module_name)  # imports the parent packages only
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.origin or not spec.origin.endswith(".py"):
        return None
    tree = ast.parse(Path(spec.origin).read_text(encoding="utf-8"))
    classes = {node.name: node for node in tree.body if isinstance(node, ast.ClassDef)}
    cls = classes.get(class_name)
    while cls is not None and not cls.decorator_list:
        init = next((node for node in cls.body if isinstance(node, ast.FunctionDef) and node.name == "__init__"), None)
        if init is not None:
            return _parameters(init.args)
        # Inherited: follow a base class of the same module; one from elsewhere needs the import.
        cls = next((classes[base.id] for base in cls.bases if isinstance(base, ast.Name) and base.id in classes), None)
    return None


def _parameters(args: ast.arguments) -> list[Parameter]:
    positional = [*args.posonlyargs, *args.args]
    defaults = [None] * (len(positional) - len(args.defaults)) + list(args.defaults)
    found = [Parameter(arg.arg, _text(default), arg not in args.posonlyargs) for arg, default in zip(positional, defaults)]
    found += [Parameter(arg.arg, _text(default), True) for arg, default in zip(args.kwonlyargs, args.kw_defaults)]
    found += [Parameter(arg.arg, None, False) for arg in (args.vararg, args.kwarg) if arg is not None]
    return found


def _text(default: ast.expr | None) -> str | None:
    return None if default is None else ast.unparse(default)


def _from_class(cls: type) -> list[Parameter]:
    keyword_kinds = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    return [
        Parameter(p.name, None if p.default is inspect.Parameter.empty else repr(p.default), p.kind in keyword_kinds)
        for p in inspect.signature(cls.__init__).parameters.values()
    ]
