"""The package's layers: the engine never imports the notebook layer, and no two modules import each
other, directly or around a loop.

The import graph is read from the source with ``ast``, one node per module of ``autotune_nb``
(a package is its ``__init__``), one edge per import of another of its modules:

* every import that can run counts, at module level or inside a function: a function-level import
  is how the old cycle (``Study.dashboard`` importing ``notebook.dashboard``, which imports
  ``study``) hid. Imports under ``if TYPE_CHECKING:`` never run, and do not count;
* ``from P import x`` is an edge to the module ``P.x`` when ``x`` is a module (``from . import
  charts``), else to ``P`` itself; relative imports are resolved against the importing module;
* importing ``a.b.c`` is an edge to ``a.b.c`` only, not to the packages ``a`` and ``a.b`` that
  Python initialises on the way: a package is the parent of its modules, not a dependency of theirs
  (counting it would make a cycle of every package whose ``__init__`` imports its modules);
* ``importlib.import_module`` with a computed name (the package's lazy ``_LAZY`` names) is not an
  import statement, and is not seen.

The notebook layer is ``autotune_nb.notebook``. The one way in from outside is the package's own
``%load_ext`` hooks (``load_ipython_extension`` in ``autotune_nb/__init__.py``), which IPython
calls once everything is imported; those edges are left out of both checks.
"""

from __future__ import annotations

import ast
import pathlib
import subprocess
import sys

import autotune_nb

ROOT = pathlib.Path(autotune_nb.__file__).parent
PACKAGE = "autotune_nb"
NOTEBOOK = "autotune_nb.notebook"
HOOKS = {("autotune_nb", "autotune_nb.notebook.extension")}  # %load_ext autotune_nb


def module_name(path: pathlib.Path) -> str:
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(path): path for path in sorted(ROOT.rglob("*.py"))}


class Imports(ast.NodeVisitor):
    """The modules of the package that one module imports (see the module docstring)."""

    def __init__(self, name: str, is_package: bool):
        self.package = name if is_package else name.rpartition(".")[0]
        self.found: set[str] = set()

    def visit_If(self, node: ast.If) -> None:
        test = node.test
        if (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
                isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"):
            for child in node.orelse:
                self.visit(child)
            return
        self.generic_visit(node)

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self._add(alias.name)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        base = node.module or ""
        if node.level:
            anchor = self.package.split(".")
            anchor = anchor[: len(anchor) - (node.level - 1)]
            base = ".".join(anchor + ([node.module] if node.module else []))
        for alias in node.names:
            submodule = f"{base}.{alias.name}"
            self._add(submodule if submodule in MODULES else base)

    def _add(self, name: str) -> None:
        if name in MODULES:
            self.found.add(name)


def import_graph() -> dict[str, set[str]]:
    graph = {}
    for name, path in MODULES.items():
        visitor = Imports(name, path.name == "__init__.py")
        visitor.visit(ast.parse(path.read_text(encoding="utf-8"), filename=str(path)))
        graph[name] = {target for target in visitor.found if target != name and (name, target) not in HOOKS}
    return graph


def in_notebook(name: str) -> bool:
    return name == NOTEBOOK or name.startswith(NOTEBOOK + ".")


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph[node]):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_the_graph_sees_the_imports_it_should():
    """The reader itself: a relative submodule import, a function-level import, a TYPE_CHECKING one."""
    graph = import_graph()
    assert "autotune_nb.views.charts" in graph["autotune_nb.views.static"]  # from . import charts
    assert "autotune_nb.views.static" in graph["autotune_nb.study"]  # inside _repr_mimebundle_
    assert "autotune_nb.study" not in graph["autotune_nb.views.study_view"]  # under TYPE_CHECKING
    assert "autotune_nb.notebook.dashboard" in graph["autotune_nb.notebook.magic"]


def test_nothing_outside_the_notebook_layer_imports_it():
    graph = import_graph()
    crossings = sorted((name, target) for name, targets in graph.items() if not in_notebook(name)
                       for target in targets if in_notebook(target))
    assert crossings == []


def test_the_import_graph_has_no_cycle():
    assert cycles(import_graph()) == []


def test_the_engine_runs_and_renders_without_loading_the_notebook_layer(tmp_path):
    """In a fresh interpreter: a study runs and writes its static view; no widget library loads."""
    script = (
        "import sys, autotune_nb as at\n"
        "study = at.Study({'x': at.uniform(0, 1)}, tuner='Random', seed=0, storage=None)\n"
        "study.run(lambda p: p['x'], max_trials=3, executor='inline')\n"
        "assert '<svg' in study._repr_mimebundle_()['text/html']\n"
        "print(sorted(m for m in sys.modules if m.startswith(('autotune_nb.notebook', 'ipywidgets', 'bqplot'))))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
