"""The options of a ``%%autotune`` line as words: read the ones a form edits, write them back, and
keep every other word of the line as the user wrote it (``--timeout 1h``, ``$TRIALS``, ``--cluster``).

The words are split as the magic splits them (IPython's ``arg_split``) and each option is known by
the magic's own parser, so an option added to the magic is kept without a change here.
"""

from __future__ import annotations

from IPython.utils.process import arg_split

MAGIC = "%%autotune"

#: The options the "Tune this cell" form edits, by their ``args`` names in the magic's parser.
FORM_OPTIONS = ("tuner", "tuner_args", "trials", "concurrency", "gpus", "assessor", "assessor_args",
                "direction", "name")


def _parser():
    from .magic import AutotuneMagics

    return AutotuneMagics.autotune.parser


def options_text(line: str) -> str:
    """What follows ``%%autotune`` on ``line`` ("" when the line is not a ``%%autotune`` line)."""
    head, _, rest = line.strip().partition(" ")
    return rest.strip() if head == MAGIC else ""


def _groups(text: str) -> list[list[str]]:
    """The words of ``text``, an option grouped with its value (``--trials 20`` or ``--trials=20``)."""
    actions = _parser()._option_string_actions  # argparse's table of option strings (no public one)
    words, groups = arg_split(text), []
    while words:
        word = words.pop(0)
        action = actions.get(word.split("=", 1)[0])
        takes_value = action is not None and action.nargs != 0 and "=" not in word
        groups.append([word, words.pop(0)] if takes_value and words else [word])
    return groups


def _dest(group: list[str]) -> str | None:
    action = _parser()._option_string_actions.get(group[0].split("=", 1)[0])
    return None if action is None else action.dest


def _value(group: list[str]) -> str:
    """The value a group gives its option: a store_const's constant (``--minimize``), else its word."""
    action = _parser()._option_string_actions[group[0].split("=", 1)[0]]
    if action.nargs == 0:
        return str(action.const)
    return group[0].split("=", 1)[1] if "=" in group[0] else (group[1] if len(group) > 1 else "")


def form_fields(line: str) -> dict[str, str]:
    """The form's options as ``line`` gives them, as written ("" where the line gives none)."""
    fields = dict.fromkeys(FORM_OPTIONS, "")
    for group in _groups(options_text(line)):
        dest = _dest(group)
        if dest in fields:
            fields[dest] = _value(group)
    return fields


def _words_of(dest: str, value: str) -> list[str]:
    """The words that give option ``dest`` the form's ``value``; none for an empty value."""
    value = value.strip()
    if not value:
        return []
    if dest == "direction":  # --maximize / --minimize; any other word is left for the magic to refuse
        return [f"--{value}"]
    option = next(action.option_strings[0] for action in _parser()._actions if action.dest == dest)
    return [option, value]


def with_fields(line: str, fields: dict[str, str]) -> str:
    """``line`` (a ``%%autotune`` line, or "" for a new one) with the options of ``fields`` set: each
    where the line had it, else at the end; an empty value removes the option. Other words stay."""
    edited = {dest: fields[dest] for dest in FORM_OPTIONS if dest in fields}
    words: list[str] = []
    written: set[str] = set()
    for group in _groups(options_text(line)):
        dest = _dest(group)
        if dest in edited:
            if dest not in written:
                words += _words_of(dest, edited[dest])
                written.add(dest)
            continue
        words += group
    for dest in edited:
        if dest not in written:
            words += _words_of(dest, edited[dest])
    return " ".join([MAGIC, *words])
