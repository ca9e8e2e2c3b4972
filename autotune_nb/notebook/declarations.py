"""Which statements of a notebook cell declare a parameter: the one rule, for ``%%autotune`` (``cell.py``
tunes the declarations) and for plain runs (``plain_run.py`` gives them their default values).

A declaration is a top-level ``name = <callee>(...)`` whose callee is one of autotune_nb's
distribution functions (``uniform``, ``choice``, ... : ``space.DISTRIBUTIONS``), spelled

* ``<package>.<type>(...)``, where ``<package>`` is a name bound to the ``autotune_nb`` module, or
  ``at`` / ``autotune_nb`` while unbound (the extension binds ``at``, and ``cell.py`` binds both when
  it evaluates a declaration);
* ``<function>(...)``, where ``<function>`` is a name bound to a distribution function, under its
  own name or another (``from autotune_nb import uniform as u``).

A name is looked up in the notebook's namespace and in the cell's own top-level imports before the
statement, so a cell that imports and declares (``from autotune_nb import uniform``, then
``lr = uniform(0, 1)``) declares the same on its first run as on later ones. Only imports are
followed: a name the cell rebinds otherwise (``uniform = ...``) keeps the meaning it had before.
"""

from __future__ import annotations

import ast
import dataclasses
from typing import Any, Callable, Iterator, Mapping, Sequence

import autotune_nb

from .. import space

#: Names that stand for the package while nothing else is bound to them.
PACKAGE_NAMES = ("at", "autotune_nb")
_FUNCTIONS = tuple(getattr(space, name) for name in space.DISTRIBUTIONS)
_UNBOUND = object()
_SHADOWED = object()  # bound by the cell's own import to something that is not autotune_nb's


@dataclasses.dataclass(frozen=True)
class Declaration:
    """``name = <callee>(...)``. ``callee`` is the name the call starts from (``at`` in
    ``at.uniform(0, 1)``) and ``bound`` what it stands for (the package, or a distribution
    function): evaluate ``call`` with ``callee`` bound to it."""

    name: str
    call: ast.Call
    callee: str
    bound: Any


def declarations(body: Sequence[ast.stmt],
                 namespace: Mapping[str, Any]) -> Iterator[tuple[ast.stmt, Declaration | None]]:
    """Each top-level statement of a cell, in order, with its declaration if it is one."""
    imported: dict[str, Any] = {}

    def lookup(name: str) -> Any:
        return imported.get(name, namespace.get(name, _UNBOUND))

    for statement in body:
        yield statement, _declaration(statement, lookup)
        if isinstance(statement, (ast.Import, ast.ImportFrom)):
            imported.update(_imports(statement))


def _declaration(statement: ast.stmt, lookup: Callable[[str], Any]) -> Declaration | None:
    if not (isinstance(statement, ast.Assign) and len(statement.targets) == 1
            and isinstance(statement.targets[0], ast.Name) and isinstance(statement.value, ast.Call)):
        return None
    name, call, func = statement.targets[0].id, statement.value, statement.value.func
    if isinstance(func, ast.Attribute) and func.attr in space.DISTRIBUTIONS and isinstance(func.value, ast.Name):
        bound = lookup(func.value.id)
        if bound is _UNBOUND and func.value.id in PACKAGE_NAMES:
            bound = autotune_nb
        if bound is autotune_nb:
            return Declaration(name, call, func.value.id, bound)
    if isinstance(func, ast.Name):
        bound = lookup(func.id)
        if _is_function(bound):
            return Declaration(name, call, func.id, bound)
    return None


def _imports(statement: ast.Import | ast.ImportFrom) -> dict[str, Any]:
    """The names an import statement binds: to the package or a distribution function, or shadowed."""
    bound: dict[str, Any] = {}
    if isinstance(statement, ast.Import):
        for alias in statement.names:
            if alias.asname is None:  # ``import a.b`` binds ``a``
                top = alias.name.split(".")[0]
                bound[top] = autotune_nb if top == autotune_nb.__name__ else _SHADOWED
            else:
                bound[alias.asname] = autotune_nb if alias.name == autotune_nb.__name__ else _SHADOWED
        return bound
    source = statement.module if statement.level == 0 else None
    for alias in statement.names:
        if alias.name == "*":
            continue
        function = getattr(space, alias.name, None) if source in (autotune_nb.__name__, space.__name__) else None
        bound[alias.asname or alias.name] = function if _is_function(function) else _SHADOWED
    return bound


def _is_function(value: Any) -> bool:
    return any(value is function for function in _FUNCTIONS)  # by identity: a user's __eq__ never runs
