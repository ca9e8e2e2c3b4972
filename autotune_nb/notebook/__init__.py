"""The notebook layer: cells become trial programs, studies become live widgets.

It depends on the engine and on the pure views (``autotune_nb.views``); the engine never imports
it (``tests/unit/test_layering.py``). The ways in are ``%load_ext autotune_nb`` and
``at.dashboard(study)``, both resolved lazily by the package's ``__init__``.
"""
