"""The build step of ``pip install`` / ``python -m build`` for the JupyterLab extension (pyproject.toml's
jupyter-builder hook calls ``build``).

With Node.js on PATH, hatch-jupyter-builder's ``npm_builder`` builds the extension with ``jlpm`` into
``autotune_nb/labextension``, as before. Without it, the install goes on without the extension and says
so in one line: the package works the same, and JupyterLab shows a study's HTML view instead of the
extension's renderer (as other front ends do). hatch-jupyter-builder's own ``optional-editable-build``
covers editable installs only, and would turn every build error into a warning; here only a missing
Node.js is forgiven, in every kind of install, and a build that fails with Node.js present still fails.
"""

from __future__ import annotations

import shutil
import sys

from hatch_jupyter_builder import npm_builder

#: The line a build without Node.js prints (tests look for it).
SKIPPED = ("autotune_nb: Node.js (node) is not on PATH, so the JupyterLab extension is not built; "
           "notebooks show the HTML view instead. Install Node.js and reinstall to get it.")


def build(target_name: str, version: str, **npm_builder_kwargs) -> None:
    if shutil.which("node") is None:
        print(SKIPPED, file=sys.stderr, flush=True)
        return
    npm_builder(target_name, version, **npm_builder_kwargs)
