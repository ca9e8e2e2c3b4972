"""``%load_ext autotune_nb``: register the magics, the plain-run defaults and ``at`` in the namespace."""

from __future__ import annotations

from .magic import AutotuneMagics
from .plain_run import DeclarationDefaults


def load_ipython_extension(ipython) -> None:
    import autotune_nb

    ipython.register_magics(AutotuneMagics)
    if not any(isinstance(t, DeclarationDefaults) for t in ipython.ast_transformers):
        ipython.ast_transformers.append(DeclarationDefaults(ipython.user_ns))
    ipython.user_ns.setdefault("at", autotune_nb)


def unload_ipython_extension(ipython) -> None:
    ipython.ast_transformers[:] = [t for t in ipython.ast_transformers if not isinstance(t, DeclarationDefaults)]
    for kind in ("line", "cell"):
        ipython.magics_manager.magics[kind].pop("autotune", None)
