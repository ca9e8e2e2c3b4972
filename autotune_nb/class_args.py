"""The rules of the classArgs that tuners and assessors take, in one place: a bad one is refused at
construction with an error naming the owner, the argument, the rule and the value.

``require_*`` check one value; ``from_config`` and ``check_names`` check a config's classArgs as a
whole (the direction it repeats, names the owner does not take, required ones missing).
"""

from __future__ import annotations

import inspect
import math
from typing import Any, Callable, Collection, Mapping, Sequence

from .errors import ConfigurationError
from .numeric import is_integer, is_real, shown
from .vocabulary import DIRECTIONS

def require_int(owner: str, arg: str, value: Any, *, minimum: int, why: str = "") -> int:
    """``value`` as an int, if it is an integer (not a bool) >= ``minimum``; ``why`` follows the rule."""
    if not is_integer(value) or value < minimum:
        raise _refusal(owner, arg, f"an integer >= {minimum}", value, why)
    return int(value)


def require_number(owner: str, arg: str, value: Any, *, minimum: float | None = None,
                   above: float | None = None, below: float | None = None, maximum: float | None = None,
                   why: str = "") -> float:
    """``value`` as a float, if it is a real number (not a bool) that a float holds finitely, and
    ``>= minimum``, ``> above``, ``< below`` and ``<= maximum`` where given; ``why`` follows the rule."""
    bounds = [f"{sign} {bound}" for sign, bound in ((">=", minimum), (">", above), ("<", below), ("<=", maximum))
              if bound is not None]
    rule = " ".join(["a finite number", " and ".join(bounds)]).strip()
    if not is_real(value):
        raise _refusal(owner, arg, rule, value, why)
    try:
        number = float(value)
    except OverflowError:  # an int (or Fraction) beyond the float range; math.isfinite raises too
        raise _refusal(owner, arg, rule, value, why, note=", too large for a float") from None
    in_range = ((minimum is None or number >= minimum) and (above is None or number > above)
                and (below is None or number < below) and (maximum is None or number <= maximum))
    if not (math.isfinite(number) and in_range):
        raise _refusal(owner, arg, rule, value, why)
    return number


def require_positive_number(owner: str, arg: str, value: Any, *, why: str = "") -> float:
    """``value`` as a float, if it is a finite real number > 0."""
    return require_number(owner, arg, value, above=0, why=why)


def require_one_of(owner: str, arg: str, value: Any, options: Sequence[Any], *, why: str = "") -> Any:
    """``value``, if it equals one of ``options`` (so numpy's 2.5 is 2.5); never a bool (True == 1)."""
    if isinstance(value, bool) or not any(_equal(value, option) for option in options):
        raise _refusal(owner, arg, f"one of {', '.join(map(repr, options))}", value, why)
    return value


def require_bool(owner: str, arg: str, value: Any, *, why: str = "") -> bool:
    """``value``, if it is True or False (not 0 or 1, not "false": a config's typo is refused)."""
    if not isinstance(value, bool):
        raise _refusal(owner, arg, "True or False", value, why)
    return bool(value)


def require_optimize_mode(owner: str, value: Any) -> str:
    return require_one_of(owner, "optimize_mode", value, DIRECTIONS)


def from_config(owner: str, class_args: Mapping[str, Any], *, direction: str,
                set_elsewhere: Mapping[str, str]) -> dict[str, Any]:
    """A config's classArgs as keyword arguments for ``owner``, less ``optimize_mode``.

    Every NNI config repeats the direction in classArgs: ``optimize_mode`` is dropped when it is the
    study's ``direction`` and refused otherwise. A key of ``set_elsewhere`` (e.g. seed) is not the
    owner's to take: it is refused, naming where it goes (the key's value there).
    """
    args = dict(class_args)
    if "optimize_mode" in args:
        mode = args.pop("optimize_mode")
        if mode not in DIRECTIONS:
            raise ConfigurationError(
                f"{owner}: classArgs optimize_mode must be 'maximize' or 'minimize', got {mode!r}; "
                f"drop it (the study's direction, {direction!r}, applies)"
            )
        if mode != direction:
            raise ConfigurationError(
                f"{owner}: classArgs optimize_mode={mode!r} conflicts with the study's direction "
                f"{direction!r}: drop it or use direction={mode!r} (--{mode} in %%autotune)"
            )
    misplaced = sorted(args.keys() & set_elsewhere.keys())
    if misplaced:
        raise ConfigurationError(
            f"{owner}: {misplaced[0]!r} is not a classArg: it goes in {set_elsewhere[misplaced[0]]}"
        )
    return args


def check_names(owner: str, target: Callable, class_args: Mapping[str, Any], *,
                not_class_args: Collection[str]) -> None:
    """Refuse a classArg that ``target``'s signature does not take (unless it takes ``**kwargs``) and
    a required one missing, so that neither surfaces as a TypeError. ``not_class_args``: the
    parameters the caller fills itself (the space, the seed); ``optimize_mode`` is listed as a
    classArg, since configs may repeat it."""
    parameters = {name: parameter for name, parameter in inspect.signature(target).parameters.items()
                  if name not in not_class_args}
    takes_any = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values())
    named = [name for name, p in parameters.items()
             if p.kind in (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)]
    if not takes_any:
        for arg, value in class_args.items():
            if arg not in named:
                valid = ["optimize_mode", *sorted(set(named) - {"optimize_mode"})]
                raise ConfigurationError(
                    f"{owner}: unknown classArg {arg!r} (= {shown(value)}); valid classArgs are "
                    f"{', '.join(valid)}"
                )
    for arg in named:
        if parameters[arg].default is inspect.Parameter.empty and arg not in class_args:
            raise ConfigurationError(f"{owner}: classArg {arg!r} is required")


def _refusal(owner: str, arg: str, rule: str, value: Any, why: str, note: str = "") -> ConfigurationError:
    reason = f" ({why})" if why else ""
    return ConfigurationError(f"{owner}: {arg} must be {rule}{reason}, got {shown(value)}{note}")


def _equal(value: Any, option: Any) -> bool:
    try:
        return bool(value == option)
    except (TypeError, ValueError):  # e.g. a numpy array, whose == gives an array
        return False
