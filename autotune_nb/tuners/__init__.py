"""Tuner registry, by NNI's names (case-insensitive). classArgs are keyword arguments.

Example:
    >>> tuner = create_tuner("tpe", {"x": {"_type": "uniform", "_value": [0, 1]}}, seed=0)
    >>> [config] = tuner.suggest(1)
"""

from __future__ import annotations

from typing import Any, Mapping

from ..class_args import check_names, from_config
from ..registry import Registry
from ..space import SearchSpace
from .base import Tuner
from .warm_start import warm_start_trials

# Imported on first use: hyperopt and scipy load slowly.
_REGISTRY: Registry[Tuner] = Registry("tuner", {
    "TPE": "autotune_nb.tuners.tpe:TPETuner",
    "TPE_legacy": "autotune_nb.tuners.hyperopt_tuners:HyperoptTPE",
    "HyperoptTPE": "autotune_nb.tuners.hyperopt_tuners:HyperoptTPE",
    "Random": "autotune_nb.tuners.hyperopt_tuners:RandomTuner",
    "Anneal": "autotune_nb.tuners.hyperopt_tuners:AnnealTuner",
    "Evolution": "autotune_nb.tuners.evolution:EvolutionTuner",
    "GridSearch": "autotune_nb.tuners.grid:GridSearchTuner",
    "Batch": "autotune_nb.tuners.grid:BatchTuner",
    "GP": "autotune_nb.tuners.gp:GPTuner",
    "Hyperband": "autotune_nb.tuners.hyperband:HyperbandTuner",
    "BOHB": "autotune_nb.tuners.bohb:BOHBTuner",
    "PBTTuner": "autotune_nb.tuners.pbt:PBTTuner",
    "MetisTuner": "autotune_nb.tuners.metis:MetisTuner",
    "PPOTuner": "autotune_nb.tuners.ppo:PPOTuner",
    "SMAC": "autotune_nb.tuners.smac_tuner:SMACTuner",
})


#: NNI's other spellings of builtin tuners (its class names), accepted wherever a tuner is named. They
#: are not registry entries: ``available_tuners`` (and the contract suites over it) lists each tuner once.
_ALIASES = {"gptuner": "GP", "batchtuner": "Batch", "gridsearchtuner": "GridSearch", "tpetuner": "TPE",
            "randomtuner": "Random", "annealtuner": "Anneal", "evolutiontuner": "Evolution",
            "smactuner": "SMAC"}


def canonical_tuner_name(name: str) -> str:
    """The registered name of an NNI alias (``"GPTuner"`` -> ``"GP"``); any other name (a registered
    one first: a tuner registered as "GPTuner" is that tuner) as given."""
    if not isinstance(name, str) or name.lower() in {known.lower() for known in _REGISTRY.names()}:
        return name
    return _ALIASES.get(name.lower(), name)


def register_tuner(name: str, target: str | type[Tuner]) -> None:
    """Register a tuner class (or its "module:Class" path) under ``name``."""
    _REGISTRY.register(name, target)


def available_tuners() -> list[str]:
    return _REGISTRY.names()


def tuner_class(name: str) -> type[Tuner]:
    """The class registered as ``name`` (any case), or as the tuner an NNI alias names."""
    return _REGISTRY.load(canonical_tuner_name(name))


def tuner_target(name: str) -> str:
    """The "module:Class" path of ``tuner_class(name)``, without importing it."""
    return _REGISTRY.target(canonical_tuner_name(name))


#: create_tuner's arguments that a config may misplace in classArgs, and where each goes instead.
_SET_ELSEWHERE = {
    "name": "tuner= of the Study (--tuner in %%autotune)",
    "space": "the Study's search space (its first argument)",
    "seed": "seed= of the Study (--seed in %%autotune)",
}


def create_tuner(
    name: str,
    space: SearchSpace | Mapping,
    *,
    optimize_mode: str = "maximize",
    seed: int | None = None,
    class_args: Mapping[str, Any] | None = None,
    **kwargs: Any,
) -> Tuner:
    """Build the tuner registered as ``name``; unknown classArgs are refused by name.

    classArgs come as keywords or, as a config holds them (NNI's classArgs, a study's
    ``tuner_args``), as the mapping ``class_args``, which may repeat ``optimize_mode``: see
    ``class_args.from_config``.
    """
    cls = tuner_class(name)
    owner = f"tuner {name}"
    # A classArg given both ways is a TypeError, as a repeated keyword is.
    class_args = dict(**kwargs, **from_config(owner, class_args or {}, direction=optimize_mode,
                                              set_elsewhere=_SET_ELSEWHERE))
    check_names(owner, cls.__init__, class_args, not_class_args=("self", "space", "seed"))
    return cls(space, optimize_mode=optimize_mode, seed=seed, **class_args)


__all__ = ["Tuner", "available_tuners", "canonical_tuner_name", "create_tuner", "register_tuner", "tuner_class", "tuner_target",
           "warm_start_trials"]
