"""A ``%%autotune`` cell body turned into a trial program.

The body is transformed as IPython transforms any cell (so ``%`` and ``!`` lines work), parsed, and
compiled on its own first so a syntax error points at the cell's own lines. Then:

* every parameter declaration (``name = at.<type>(...)``, the rule is ``declarations.py``'s) is
  evaluated once, in the notebook's namespace, into the search space, and the statement becomes
  ``name = __autotune_params__["name"]``;
* NNI annotations (``'''@nni.variable(nni.choice(2, 3), name=self.size)'''`` and the others, at any
  depth: ``annotations.py``) add their parameters to the space and read them from
  ``__autotune_params__`` where they are annotated;
* parameters from ``--space`` are bound as variables of the same name before the body runs;
* a trailing expression statement is the trial's result (as ``%%time`` splits it off); a final result
  the cell reports (``nni.report_final_result``, or its annotation) wins over it;
* ``__name__`` is ``"__main__"``, as in the notebook, so ``if __name__ == "__main__":`` blocks run;
* the names the body reads from the notebook are listed, for ``capture.py`` to ship to the workers.

The result is a ``TrialProgram``: a code object (line numbers are the cell's, magic line included)
and the list of names it needs, with no reference to the live kernel, so it pickles.
"""

from __future__ import annotations

import ast
import builtins
import dataclasses
import marshal
from typing import Any, Mapping

import autotune_nb

from ..errors import SearchSpaceError
from ..space import Distribution
from ..nni_annotations import apply_annotations
from .declarations import Declaration, declarations

PARAMS_NAME = "__autotune_params__"
RESULT_NAME = "__autotune_result__"
FUNCTION_NAME = "__autotune_trial__"


@dataclasses.dataclass(frozen=True)
class TrialProgram:
    """A compiled cell body. ``code`` defines ``__autotune_trial__(params)`` when exec'd.

    The code travels marshalled, not as a code object: pickled code objects lose their filename
    (cloudpickle renames it), and with it the cell lines in a trial's traceback.
    """

    code: bytes  # marshal.dumps of the module code: keeps the cell's filename for tracebacks
    filename: str
    source: str
    declared: dict[str, Distribution]  # the cell's own parameters, declared or annotated, in cell order
    reads: tuple[str, ...]
    annotated: tuple[str, ...] = ()  # the names in ``declared`` that NNI annotations define

    def build(self, namespace: dict[str, Any]):
        """The trial function, defined in ``namespace`` (the captured notebook names)."""
        exec(marshal.loads(self.code), namespace)
        return namespace[FUNCTION_NAME]


def _evaluate_declaration(declaration: Declaration, filename: str, user_ns: Mapping[str, Any]) -> Distribution:
    """The declaration's distribution: its call evaluated in the notebook's namespace, with ``at`` and
    ``autotune_nb`` bound unless the notebook binds them, and the callee as the rule resolved it
    (it may come from an import in the cell itself, which has not run)."""
    name, call = declaration.name, declaration.call
    expression = ast.Expression(call)
    ast.fix_missing_locations(expression)
    namespace = {"at": autotune_nb, "autotune_nb": autotune_nb, **user_ns, declaration.callee: declaration.bound}
    try:
        distribution = eval(compile(expression, filename, "eval"), namespace)
        if isinstance(distribution, Distribution):
            distribution.validate(name)
    except SearchSpaceError as exc:
        raise SearchSpaceError(f"line {call.lineno}: {exc}") from None
    except Exception as exc:
        raise SearchSpaceError(
            f"line {call.lineno}: the declaration of {name!r} failed: {type(exc).__name__}: {exc}"
        ) from None
    if not isinstance(distribution, Distribution):
        raise SearchSpaceError(f"line {call.lineno}: {name} = ... did not produce a distribution")
    return distribution


def _bind(name: str, lineno: int) -> ast.Assign:
    """``name = __autotune_params__["name"]`` at ``lineno``."""
    node = ast.Assign(
        targets=[ast.Name(name, ast.Store())],
        value=ast.Subscript(ast.Name(PARAMS_NAME, ast.Load()), ast.Constant(name), ast.Load()),
    )
    return _at_line(node, lineno, lineno)


def _at_line(node: ast.AST, first: int, last: int) -> ast.AST:
    """Give ``node`` and its children without a position the lines ``first`` to ``last``."""
    node.lineno, node.end_lineno, node.col_offset, node.end_col_offset = first, last, 0, 0
    return ast.fix_missing_locations(node)


def _names_read(tree: ast.Module) -> list[str]:
    """Names loaded anywhere in the body (nested functions too), in order of first use."""
    seen: dict[str, None] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
            seen.setdefault(node.id, None)
    return list(seen)


def compile_cell(
    source: str,
    user_ns: Mapping[str, Any],
    *,
    filename: str = "<autotune cell>",
    space_params: tuple[str, ...] = (),
    first_line: int = 2,
) -> TrialProgram:
    """Compile a cell body (already run through ``shell.transform_cell``) into a ``TrialProgram``.

    ``first_line`` is the cell line of the body's first line (2: the magic line is line 1), so
    tracebacks and syntax errors point at the lines the user sees.
    """
    try:
        tree = ast.parse(source, filename=filename)
    except SyntaxError as exc:  # number its line as the cell does, magic line included
        if exc.lineno is not None:
            exc.lineno += first_line - 1
        raise
    ast.increment_lineno(tree, first_line - 1)
    annotations = apply_annotations(tree.body, PARAMS_NAME)

    declared: dict[str, Distribution] = {}
    lines: dict[str, int] = {}
    body: list[ast.stmt] = []
    for node, found in declarations(annotations.body, user_ns):
        if found is None:
            body.append(node)
            continue
        name = found.name
        if name in declared:
            raise SearchSpaceError(f"line {node.lineno}: parameter {name!r} is declared twice in the cell")
        if name in space_params:
            raise SearchSpaceError(
                f"line {node.lineno}: parameter {name!r} is declared in the cell and in --space: keep one"
            )
        declared[name] = _evaluate_declaration(found, filename, user_ns)
        lines[name] = node.lineno
        body.append(_bind(name, node.lineno))
    for name, distribution in annotations.space.items():
        line = annotations.lines[name]
        if name in declared:
            raise SearchSpaceError(
                f"cell line {line}: parameter {name!r} is annotated and declared (line {lines[name]}): keep one")
        if name in space_params:
            raise SearchSpaceError(f"cell line {line}: parameter {name!r} is annotated and in --space: keep one")
        declared[name], lines[name] = distribution, line
    declared = dict(sorted(declared.items(), key=lambda item: lines[item[0]]))  # the cell's order

    if not declared and not space_params:
        raise SearchSpaceError(
            "the cell declares no parameter: add one such as `lr = at.loguniform(1e-4, 1e-1)`, or an NNI "
            "annotation such as '''@nni.variable(nni.uniform(0.1, 0.5), name=dropout)''' before "
            "`dropout = 0.2`, or pass --space with an NNI search-space JSON file or dict"
        )
    first = body[0].lineno if body else first_line
    bindings = [_bind(name, first) for name in space_params]
    if body and isinstance(body[-1], ast.Expr):
        result = ast.copy_location(ast.Return(body[-1].value), body[-1])
        body[-1] = result
    function = ast.FunctionDef(
        name=FUNCTION_NAME,
        args=ast.arguments(posonlyargs=[], args=[ast.arg(PARAMS_NAME)], kwonlyargs=[], kw_defaults=[], defaults=[]),
        body=bindings + body or [ast.Pass()],
        decorator_list=[],
        returns=None,
    )
    if "type_params" in ast.FunctionDef._fields:  # Python >= 3.12
        function.type_params = []
    _at_line(function, first_line, max(getattr(node, "end_lineno", first_line) for node in function.body))
    main = _at_line(ast.Assign([ast.Name("__name__", ast.Store())], ast.Constant("__main__")), first_line, first_line)
    module = ast.Module(body=[main, function], type_ignores=[])
    code = compile(module, filename, "exec")

    assigned = _assigned_names(body)
    builtin_names = set(dir(builtins))
    reads = tuple(
        name for name in _names_read(ast.Module(body=body, type_ignores=[]))
        if name not in assigned and name not in builtin_names and name in user_ns and name != PARAMS_NAME
    )
    return TrialProgram(code=marshal.dumps(code), filename=filename, source=source, declared=declared, reads=reads,
                        annotated=tuple(annotations.space))


def _assigned_names(body: list[ast.stmt]) -> set[str]:
    """Names the body binds: they are the trial function's locals, so never read from the notebook."""
    names: set[str] = set()
    for node in body:
        for child in ast.walk(node):
            if isinstance(child, ast.Name) and isinstance(child.ctx, (ast.Store, ast.Del)):
                names.add(child.id)
            elif isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                names.add(child.name)
            elif isinstance(child, (ast.Import, ast.ImportFrom)):
                names.update((alias.asname or alias.name).split(".")[0] for alias in child.names)
        if isinstance(node, ast.Global):
            names.difference_update(node.names)
    return names
