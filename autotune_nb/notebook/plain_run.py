"""Outside ``%%autotune``, a cell's parameter declarations take their default values.

With the extension loaded, IPython runs every ordinary cell through ``DeclarationDefaults``: each
parameter declaration (the rule is ``declarations.py``'s, the same as ``%%autotune``'s), say
``name = at.<type>(...)``, becomes ``name = at.<type>(...).default``, so the cell that will be tuned
runs once as plain code (with ``default=`` or the centre of each distribution) before ``%%autotune``
is put on top of it. Other uses of the distributions (inside a dict for ``at.Study``, say) are left
alone.
"""

from __future__ import annotations

import ast
from typing import Any, Mapping

from .declarations import declarations


class DeclarationDefaults(ast.NodeTransformer):
    """IPython AST transformer: a declaration ``name = <distribution>(...)`` -> ``... .default``.

    ``namespace``: the notebook's (``shell.user_ns``, which IPython clears in place and never
    replaces), read at each cell to tell what its names are bound to.
    """

    def __init__(self, namespace: Mapping[str, Any]):
        self.namespace = namespace

    def visit_Module(self, node: ast.Module) -> ast.Module:
        for statement, found in declarations(node.body, self.namespace):
            if found is not None:
                statement.value = ast.copy_location(
                    ast.Attribute(value=statement.value, attr="default", ctx=ast.Load()), statement.value
                )
        return node
