"""Whether the ``%%autotune`` magic would accept a line over a cell, in the magic's own words.

Nothing here is a rule of its own: the line goes through the magic's parser, ``magic.check_cell_words``
and ``magic.run_options``, and the cell's search space, tuner, assessor and their classArgs through
``Study`` (kept in no store), as the magic does before a study starts. Nothing runs and nothing is
written. The lab extension's "Tune this cell" form asks this (``tune_form.py``) before it writes a line.
"""

from __future__ import annotations

import dataclasses

from IPython.core.error import UsageError
from IPython.core.magic_arguments import parse_argstring

from ..errors import AutotuneError
from .magic_line import MAGIC, options_text


@dataclasses.dataclass(frozen=True)
class LineCheck:
    """``error``: the magic's message when it would refuse the line, else None."""

    line: str
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


def check_line(line: str, cell: str = "", *, shell=None) -> LineCheck:
    """The magic's verdict on ``line`` (``%%autotune ...``) over the cell body ``cell`` (its declarations
    give the search space; with no body, only the options are checked). ``shell``: the IPython shell
    whose variables the line may name (``--tuner-args ARGS``, ``$TRIALS``); the running one by default."""
    from IPython import get_ipython

    from ..space import SearchSpace
    from ..study import Study
    from .cell import compile_cell
    from .magic import AutotuneMagics, check_cell_words, run_options

    line = line.strip()
    if line.split(" ", 1)[0] != MAGIC:
        return LineCheck(line, f"a %%autotune line starts with {MAGIC}, got {line[:40]!r}")
    shell = shell or get_ipython()
    if shell is not None and shell.find_cell_magic("autotune") is None:
        # IPython's words when the cell runs, and the remedy.
        return LineCheck(line, "Cell magic `%%autotune` not found: run `%load_ext autotune_nb` first")
    user_ns = shell.user_ns if shell is not None else {}
    text = options_text(line)
    try:
        args = parse_argstring(AutotuneMagics.autotune, shell.var_expand(text) if shell is not None else text)
        check_cell_words(args.command)
        *_, tuner_args, assessor_args, file_space = run_options(args, user_ns)
        if cell.strip() and not args.resume and not args.command:
            source = shell.transform_cell(cell) if shell is not None else cell
            program = compile_cell(source, user_ns, space_params=tuple(file_space))
            Study(SearchSpace({**file_space, **program.declared}), tuner=args.tuner, tuner_args=tuner_args,
                  assessor=args.assessor, assessor_args=assessor_args, direction=args.direction or "maximize",
                  seed=args.seed, name=args.name, storage=None)
    except (UsageError, AutotuneError) as exc:
        return LineCheck(line, str(exc))
    except SyntaxError as exc:
        return LineCheck(line, f"SyntaxError in the cell, line {exc.lineno}: {exc.msg}")
    return LineCheck(line)
