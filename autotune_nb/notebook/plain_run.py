"""Outside ``%%autotune``, a cell's parameter declarations take their default values.

With the extension loaded, IPython runs every ordinary cell through ``DeclarationDefaults``: a
top-level ``name = at.<type>(...)`` becomes ``name = at.<type>(...).default``, so the cell that will
be tuned runs once as plain code (with ``default=`` or the centre of each distribution) before
``%%autotune`` is put on top of it. Other uses of the declarations (inside a dict for
``at.Study``, say) are left alone.
"""

from __future__ import annotations

import ast

from ..space import DISTRIBUTIONS


class DeclarationDefaults(ast.NodeTransformer):
    """IPython AST transformer: top-level ``name = at.<type>(...)`` -> ``... .default``."""

    def visit_Module(self, node: ast.Module) -> ast.Module:
        for statement in node.body:
            if _is_declaration(statement):
                statement.value = ast.copy_location(
                    ast.Attribute(value=statement.value, attr="default", ctx=ast.Load()), statement.value
                )
        return node


def _is_declaration(node: ast.stmt) -> bool:
    if not (isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name)
            and isinstance(node.value, ast.Call)):
        return False
    func = node.value.func
    return (isinstance(func, ast.Attribute) and func.attr in DISTRIBUTIONS
            and isinstance(func.value, ast.Name) and func.value.id in ("at", "autotune_nb"))
