"""NNI annotations in a ``%%autotune`` cell or a trial command's files (``useAnnotation``): strings
that NNI reads as tuning instructions.

An annotation is a statement that is only a string starting with ``@nni.`` (``'''@nni.variable(...)'''``),
anywhere in the cell: top level, functions, methods, class bodies, loops, ``if``/``with``/``try``
blocks. Run plainly the cell is ordinary Python (the strings do nothing); under ``%%autotune`` this
pass reads them as NNI defines them:

* ``@nni.variable(nni.<type>(...), name=target)`` annotates the next statement, an assignment to
  ``target`` (a name, or an attribute such as ``self.conv_size``): its value becomes the trial's.
* ``@nni.function_choice(expr1, expr2, ..., name=f)`` annotates the next statement: where it
  contains one of the expressions, the trial evaluates the chosen one instead (only that one).
* ``@nni.report_intermediate_result(expr)`` and ``@nni.report_final_result(expr)`` call NNI's trial
  API of the same name (``autotune_nb.nni_api``): an intermediate result is ``at.report(expr)``; a
  final result is the trial's result, over the cell's trailing expression, once per trial.
* ``@nni.get_next_parameter()`` does nothing: the trial's parameters are bound already.

The sampling functions are NNI's ten (``nni.choice(*options)``, ``nni.randint(lower, upper)``,
``nni.uniform(low, high)``, ``nni.quniform(low, high, q)``, ``nni.loguniform``, ``nni.qloguniform``,
``nni.normal(mu, sigma)``, ``nni.qnormal``, ``nni.lognormal``, ``nni.qlognormal``): their arguments
are number literals, except ``choice``'s, which may be any expressions.

**Parameter names.** A parameter is named by the ``name=`` argument as written (``learning_rate``,
``self.conv_size``, ``max_pool``). NNI prefixes it with the script's module and suffixes the
function (``mnist/self.conv_size/choice``); a cell is one module, so the name alone is kept. The same
name annotated twice with the same distribution is one parameter (an annotation in a loop, or the
same attribute in two places, takes one value per trial); with different distributions it is an error.

**Choices.** As in NNI, an option that is a number or string literal is itself in the search space;
any other option (``tf.nn.relu``, ``max_pool(x, 2)``) appears as its source text, and the trial
evaluates the chosen expression where the annotated statement runs. ``function_choice``'s space is a
choice over its expressions' source texts.

A malformed annotation raises ``SearchSpaceError`` naming its cell line.
"""

from __future__ import annotations

import ast
import copy
import dataclasses
from typing import Any

from .errors import SearchSpaceError
from .space import DISTRIBUTIONS, Distribution, SearchSpace

PREFIX = "@nni."
#: The annotations NNI defines (``mutable_layers``, NNI's old NAS syntax, is not supported).
KINDS = ("variable", "function_choice", "report_intermediate_result", "report_final_result", "get_next_parameter")
#: The module whose ``report_intermediate_result``/``report_final_result`` the report annotations call.
API_MODULE = "autotune_nb.nni_api"


@dataclasses.dataclass(frozen=True)
class Annotations:
    """What the annotations of a cell amount to.

    ``body``: the statements with every annotation applied; ``space``: the parameters in order of
    first appearance, as distributions; ``lines``: the cell line of each parameter's first annotation.
    """

    body: list[ast.stmt]
    space: dict[str, Distribution]
    lines: dict[str, int]

    def to_nni(self) -> dict[str, dict]:
        return {name: distribution.to_nni() for name, distribution in self.space.items()}


def is_annotation(statement: ast.AST) -> bool:
    """A statement that is a string starting with ``@nni.``."""
    return (isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Constant)
            and isinstance(statement.value.value, str) and statement.value.value.lstrip().startswith(PREFIX))


def apply_annotations(body: list[ast.stmt], params_name: str) -> Annotations:
    """Apply the annotations of ``body`` (a cell's statements, line numbers the cell's).

    ``params_name``: the trial function's parameter dict, from which annotated values are read.
    """
    applier = _Applier(params_name)
    new_body = applier.block(body)
    return Annotations(new_body, applier.space, applier.lines)


@dataclasses.dataclass
class _Annotation:
    kind: str
    call: ast.Call
    line: int
    text: str


def _error(line: int, message: str) -> SearchSpaceError:
    return SearchSpaceError(f"cell line {line}: {message}")


def _source(node: ast.AST) -> str:
    return ast.unparse(node)


def _same(a: ast.AST, b: ast.AST) -> bool:
    return ast.dump(a, include_attributes=False) == ast.dump(b, include_attributes=False)


def _target_name(node: ast.AST) -> bool:
    """A name, or a chain of attributes on a name (``self.conv_size``, ``cfg.model.depth``)."""
    while isinstance(node, ast.Attribute):
        node = node.value
    return isinstance(node, ast.Name)


def _load(node: ast.expr) -> ast.expr:
    """A copy of ``node`` in load context (an assignment target compared as an expression)."""
    node = copy.deepcopy(node)
    for child in ast.walk(node):
        if hasattr(child, "ctx"):
            child.ctx = ast.Load()
    return node


class _Applier:
    def __init__(self, params_name: str):
        self.params_name = params_name
        self.space: dict[str, Distribution] = {}
        self.lines: dict[str, int] = {}

    # --- walking the statement lists -----------------------------------------------------------
    def visit(self, node: ast.AST) -> None:
        """Apply the annotations in every statement list inside ``node`` (bodies, else, handlers)."""
        for field, value in ast.iter_fields(node):
            if not isinstance(value, list):
                continue
            if value and all(isinstance(item, ast.stmt) for item in value):
                setattr(node, field, self.block(value))
            else:
                for item in value:
                    if isinstance(item, (ast.excepthandler, ast.match_case)):
                        self.visit(item)

    def block(self, statements: list[ast.stmt]) -> list[ast.stmt]:
        out: list[ast.stmt] = []
        pending: _Annotation | None = None
        for statement in statements:
            if is_annotation(statement):
                annotation = self.parse(statement)
                if pending is not None:
                    raise _error(pending.line, f"{pending.text} annotates the next statement, but the next "
                                               f"statement is another annotation (cell line {annotation.line})")
                if annotation.kind in ("variable", "function_choice"):
                    pending = annotation
                else:
                    out.append(self.standalone(annotation, statement))
                continue
            self.visit(statement)
            if pending is not None:
                statement = self.variable(pending, statement) if pending.kind == "variable" \
                    else self.function_choice(pending, statement)
                pending = None
            out.append(statement)
        if pending is not None:
            what = "an assignment" if pending.kind == "variable" else "a statement using one of its expressions"
            raise _error(pending.line, f"{pending.text} annotates nothing: put it right before {what}")
        return out or [ast.copy_location(ast.Pass(), statements[-1])]

    # --- reading an annotation ------------------------------------------------------------------
    def parse(self, statement: ast.Expr) -> _Annotation:
        raw = statement.value.value
        line = statement.lineno + raw[: len(raw) - len(raw.lstrip())].count("\n")
        text = raw.strip()
        shown = " ".join(text.split())
        if len(shown) > 80:
            shown = shown[:77] + "..."
        try:
            expression = ast.parse(text[1:], mode="eval").body
        except SyntaxError as exc:
            raise _error(line, f"the annotation {shown!r} is not a Python call: {exc.msg}") from None
        ast.increment_lineno(expression, line - 1)  # the expressions run on the annotation's own line
        if not (isinstance(expression, ast.Call) and isinstance(expression.func, ast.Attribute)
                and isinstance(expression.func.value, ast.Name) and expression.func.value.id == "nni"):
            raise _error(line, f"the annotation {shown!r} is not a call of an nni function; "
                               f"NNI annotations are @nni.{', @nni.'.join(KINDS)}")
        kind = expression.func.attr
        if kind not in KINDS:
            raise _error(line, f"@nni.{kind} is not an NNI annotation; use one of @nni.{', @nni.'.join(KINDS)}")
        if any(isinstance(arg, ast.Starred) for arg in expression.args) or \
                any(keyword.arg is None for keyword in expression.keywords):
            raise _error(line, f"@nni.{kind} takes its arguments written out, not unpacked with * or **")
        return _Annotation(kind, expression, line, f"@nni.{kind}")

    def _name_keyword(self, annotation: _Annotation) -> ast.expr:
        call = annotation.call
        names = [keyword for keyword in call.keywords if keyword.arg == "name"]
        others = [keyword.arg for keyword in call.keywords if keyword.arg != "name"]
        if others:
            raise _error(annotation.line, f"{annotation.text} takes only the keyword name=..., got {', '.join(others)}")
        if not names:
            raise _error(annotation.line, f"{annotation.text} needs name=..., got {_source(call)}")
        name = names[0].value
        if not _target_name(name):
            raise _error(annotation.line, f"{annotation.text}: name= is the annotated variable, a name or an "
                                          f"attribute such as self.lr, got {_source(name)}")
        return name

    # --- the annotations ------------------------------------------------------------------------
    def standalone(self, annotation: _Annotation, statement: ast.stmt) -> ast.stmt:
        call, line = annotation.call, annotation.line
        if annotation.kind == "get_next_parameter":
            if call.args or call.keywords:
                raise _error(line, f"@nni.get_next_parameter takes no arguments, got {_source(call)}")
            return ast.copy_location(ast.Pass(), statement)
        if len(call.args) != 1 or call.keywords:
            raise _error(line, f"{annotation.text} takes one value, got {_source(call)}")
        # autotune_nb.nni_api's call of the same name: NNI's trial API (``execution/context.py`` keeps a
        # final result, which wins over the trial function's return value; once per trial)
        api = ast.Attribute(ast.Call(ast.Name("__import__", ast.Load()), [ast.Constant(API_MODULE)], []),
                            API_MODULE.split(".")[1], ast.Load())
        node = ast.Expr(ast.Call(ast.Attribute(api, annotation.kind, ast.Load()), [call.args[0]], []))
        return self._located(node, statement)

    def variable(self, annotation: _Annotation, statement: ast.stmt) -> ast.stmt:
        call, line = annotation.call, annotation.line
        target = self._name_keyword(annotation)
        if len(call.args) != 1:
            raise _error(line, f"@nni.variable takes one sampling function and name=..., got {_source(call)}")
        sampler = call.args[0]
        if not (isinstance(sampler, ast.Call) and isinstance(sampler.func, ast.Attribute)
                and isinstance(sampler.func.value, ast.Name) and sampler.func.value.id == "nni"
                and sampler.func.attr in DISTRIBUTIONS):
            raise _error(line, f"@nni.variable's first argument is a sampling function, nni.{', nni.'.join(DISTRIBUTIONS)}; "
                               f"got {_source(sampler)}")
        if sampler.keywords or any(isinstance(arg, ast.Starred) for arg in sampler.args):
            raise _error(line, f"nni.{sampler.func.attr} takes its values as positional arguments, got {_source(sampler)}")
        if isinstance(statement, ast.Assign) and len(statement.targets) == 1:
            assigned = statement.targets[0]
        elif isinstance(statement, ast.AnnAssign) and statement.value is not None:
            assigned = statement.target
        else:
            raise _error(line, f"@nni.variable(..., name={_source(target)}) must be followed by an assignment "
                               f"`{_source(target)} = ...`, got cell line {statement.lineno}: {_first_line(statement)}")
        if not _same(_load(assigned), _load(target)):
            raise _error(line, f"@nni.variable(..., name={_source(target)}) annotates an assignment to "
                               f"{_source(assigned)} (cell line {statement.lineno}): the names differ")
        name = _source(target)
        kind = sampler.func.attr
        if kind == "choice":
            if not sampler.args:
                raise _error(line, f"nni.choice needs at least one option, got {_source(sampler)}")
            keys = self._option_keys(annotation, sampler.args)
            self._add(name, {"_type": "choice", "_value": keys}, line)
            value = self._chosen(name, sampler.args, keys)
        else:
            values = []
            for arg in sampler.args:
                try:
                    number = ast.literal_eval(arg)
                except ValueError:
                    number = None
                if isinstance(number, bool) or not isinstance(number, (int, float)):
                    raise _error(line, f"nni.{kind}'s arguments are number literals (as NNI reads them before "
                                       f"anything runs), got {_source(arg)}")
                values.append(number)
            self._add(name, {"_type": kind, "_value": values}, line)
            value = self._parameter(name)
        statement.value = ast.copy_location(value, statement.value)
        ast.fix_missing_locations(statement)
        return statement

    def function_choice(self, annotation: _Annotation, statement: ast.stmt) -> ast.stmt:
        call, line = annotation.call, annotation.line
        name = _source(self._name_keyword(annotation))
        if not call.args:
            raise _error(line, f"@nni.function_choice needs the expressions to choose from, got {_source(call)}")
        keys = self._option_keys(annotation, call.args)
        self._add(name, {"_type": "choice", "_value": keys}, line)
        chosen = self._chosen(name, call.args, keys)
        replacer = _Replacer(call.args, chosen)
        statement = replacer.visit(statement)
        if not replacer.replaced:
            options = ", ".join(_source(arg) for arg in call.args)
            raise _error(line, f"@nni.function_choice(..., name={name}) annotates cell line {statement.lineno}, "
                               f"which contains none of its expressions ({options})")
        return statement

    # --- helpers --------------------------------------------------------------------------------
    def _option_keys(self, annotation: _Annotation, options: list[ast.expr]) -> list[Any]:
        """NNI's keys of a choice: a number or string literal as itself, anything else its source."""
        keys: list[Any] = []
        for option in options:
            literal = isinstance(option, ast.Constant) and isinstance(option.value, (int, float, str)) \
                and not isinstance(option.value, bool)
            key = option.value if literal else _source(option)
            if any(type(key) is type(k) and key == k for k in keys):
                raise _error(annotation.line, f"{annotation.text} lists the option {_source(option)} twice")
            keys.append(key)
        return keys

    def _parameter(self, name: str) -> ast.expr:
        return ast.Subscript(ast.Name(self.params_name, ast.Load()), ast.Constant(name), ast.Load())

    def _chosen(self, name: str, options: list[ast.expr], keys: list[Any]) -> ast.expr:
        """The parameter's value when every option is a literal; else ``o1 if p == k1 else o2 if ...``,
        which evaluates only the chosen option, where the annotated statement runs."""
        if all(isinstance(option, ast.Constant) and option.value == key for option, key in zip(options, keys)):
            return self._parameter(name)
        chosen: ast.expr = copy.deepcopy(options[-1])
        for option, key in zip(reversed(options[:-1]), reversed(keys[:-1])):
            test = ast.Compare(self._parameter(name), [ast.Eq()], [ast.Constant(key)])
            chosen = ast.copy_location(ast.IfExp(test, copy.deepcopy(option), chosen), option)
        return ast.fix_missing_locations(chosen)

    def _add(self, name: str, spec: dict, line: int) -> None:
        try:
            distribution = SearchSpace({name: spec})[name]
        except SearchSpaceError as exc:
            raise _error(line, str(exc)) from None
        known = self.space.get(name)
        if known is None:
            self.space[name], self.lines[name] = distribution, line
        elif known.to_nni() != distribution.to_nni():
            raise _error(line, f"parameter {name!r} is annotated with {distribution.to_nni()}, but cell line "
                               f"{self.lines[name]} annotates it with {known.to_nni()}: one name, one distribution")

    @staticmethod
    def _located(node: ast.stmt, statement: ast.stmt) -> ast.stmt:
        ast.copy_location(node, statement)  # the annotation string's own span
        return ast.fix_missing_locations(node)


class _Replacer(ast.NodeTransformer):
    """Every occurrence of one of ``options`` in a statement becomes ``chosen``."""

    def __init__(self, options: list[ast.expr], chosen: ast.expr):
        self.dumps = {ast.dump(option, include_attributes=False) for option in options}
        self.chosen = chosen
        self.replaced = 0

    def visit(self, node: ast.AST) -> ast.AST:
        if isinstance(node, ast.expr) and ast.dump(node, include_attributes=False) in self.dumps:
            self.replaced += 1
            return copy.deepcopy(self.chosen)
        return super().visit(node)


def _first_line(statement: ast.stmt) -> str:
    text = ast.unparse(statement).splitlines()[0] if not isinstance(statement, ast.Pass) else "pass"
    return text if len(text) <= 60 else text[:57] + "..."


def search_space(source: str, *, first_line: int = 1) -> dict[str, dict]:
    """The NNI search space of the annotations in ``source`` (a cell body; ``first_line``: its cell line)."""
    tree = ast.parse(source)
    ast.increment_lineno(tree, first_line - 1)
    return apply_annotations(tree.body, "__autotune_params__").to_nni()


#: The module-level name an annotated program file reads its trial's parameters from.
FILE_PARAMS_NAME = "__autotune_params__"


def annotate_file(source: str, filename: str) -> tuple[str, dict[str, dict]] | None:
    """A program file of a trial command (``useAnnotation``), its annotations applied: the new source
    and the annotations' NNI search space; None for a file without annotations.

    The new source fetches the trial's parameters once, where the file's imports begin (after its
    docstring and ``from __future__`` imports): ``import nni`` is NNI's trial API there. Errors name
    the file and its line.
    """
    tree = ast.parse(source, filename=filename)
    if not any(is_annotation(node) for node in ast.walk(tree)):
        return None
    try:
        annotations = apply_annotations(tree.body, FILE_PARAMS_NAME)
    except SearchSpaceError as exc:
        raise SearchSpaceError(str(exc).replace("cell line", f"{filename} line")) from None
    body = annotations.body
    start = 1 if body and _is_docstring(body[0]) else 0
    while start < len(body) and isinstance(body[start], ast.ImportFrom) and body[start].module == "__future__":
        start += 1
    fetch = ast.parse(f"import nni as __autotune_nni__\n{FILE_PARAMS_NAME} = __autotune_nni__.get_next_parameter()").body
    module = ast.Module(body[:start] + fetch + body[start:], type_ignores=[])
    return ast.unparse(ast.fix_missing_locations(module)), annotations.to_nni()


def _is_docstring(statement: ast.stmt) -> bool:
    return isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Constant) and isinstance(
        statement.value.value, str)
