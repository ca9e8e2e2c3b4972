"""NNI's naive Evolution: random initial population, then tournament selection and one-parameter
mutation (Real et al., "Large-Scale Evolution of Image Classifiers", as NNI's evolution_tuner does it).

The first ``population_size`` suggestions are random samples. Afterwards each suggestion picks two
random members of the population, copies the better one and re-samples one parameter that is active
in it (a nested choice that changes branch gets a fresh sample of the new branch's sub-space). The
worse of the two leaves the population when the child's result comes back and the child joins it, so
the population keeps its size however many children run at once. Failed trials join as the worst.
"""

from __future__ import annotations

import copy
import dataclasses
import math
from typing import Any, Mapping

from ..class_args import require_int
from ..space import Choice, Distribution, SearchSpace
from ..trial import Trial
from .base import Tuner, config_key

#: Mutations tried before falling back to a random sample (a mutation may repeat its parent or a
#: pending configuration), then random samples tried before the tuner gives up.
MUTATION_ATTEMPTS = 20


@dataclasses.dataclass(eq=False)
class _Member:
    """One individual: compared by identity, so two members with equal configurations stay apart."""

    config: dict[str, Any]
    loss: float


class EvolutionTuner(Tuner):
    """NNI's Evolution tuner. classArg ``population_size`` (default 32, at least 2).

    Example:
        >>> tuner = EvolutionTuner({"x": {"_type": "uniform", "_value": [0, 1]}}, population_size=4, seed=0)
        >>> [config] = tuner.suggest(1)
    """

    def __init__(
        self,
        space: SearchSpace | Mapping,
        *,
        optimize_mode: str = "maximize",
        seed: int | None = None,
        population_size: int = 32,
    ):
        self.population_size = require_int("Evolution", "population_size", population_size, minimum=2,
                                           why="a tournament needs two members")
        super().__init__(space, optimize_mode=optimize_mode, seed=seed)
        self._population: list[_Member] = []
        # child config key -> the tournament losers waiting for that child's result (None: no loser).
        self._losers: dict[str, list[_Member | None]] = {}
        self._suggested = 0

    # --- suggest ---------------------------------------------------------------------------------
    def _suggest(self, n: int) -> list[dict[str, Any]]:
        taken = {config_key(c) for c in self.pending}
        configs = []
        for _ in range(n):
            config, loser = self._next_individual(taken)
            if config is None:
                break
            key = config_key(config)
            taken.add(key)
            self._losers.setdefault(key, []).append(loser)
            self._suggested += 1
            configs.append(config)
        return configs

    def _next_individual(self, taken: set[str]) -> tuple[dict[str, Any] | None, _Member | None]:
        """A child of a tournament and the member it condemns; a random sample while there is no
        population yet (the first ``population_size`` suggestions, or all results still pending)."""
        if self._suggested < self.population_size or not self._population:
            return self.random_config(taken), None
        if len(self._population) == 1:
            winner, loser = self._population[0], None
        else:
            winner, loser = self._tournament()
        child = self._mutant(winner.config, taken)
        if child is None:
            return self.random_config(taken), None
        return child, loser

    def _tournament(self) -> tuple[_Member, _Member]:
        first, second = (self._population[i] for i in self.rng.choice(len(self._population), size=2, replace=False))
        return (first, second) if first.loss <= second.loss else (second, first)

    def _mutant(self, parent: dict[str, Any], taken: set[str]) -> dict[str, Any] | None:
        """``parent`` with one active parameter re-sampled, differing from it and from every pending one."""
        parent_key = config_key(parent)
        active_keys = self.space.flatten(parent)
        active = [dim for dim in self.space.dimensions if dim.key in active_keys]
        for _ in range(MUTATION_ATTEMPTS):
            dim = active[int(self.rng.integers(len(active)))]
            child = copy.deepcopy(parent)
            holder = _holder(child, dim.path)
            holder[dim.path[-1]] = self._resample(dim.distribution, holder[dim.path[-1]])
            key = config_key(child)
            if key != parent_key and key not in taken:
                return child
        return None

    def _resample(self, dist: Distribution, old: Any) -> Any:
        """A new value of ``dist``; a nested choice keeps its sub-parameters when the branch stays."""
        value = dist.sample(self.rng)
        if not isinstance(dist, Choice):
            return value
        index = dist.index_of(value)
        if index not in dist.subspaces:
            return value
        if index == dist.index_of(old):
            return old
        return {"_name": dist.option_label(index), **dist.subspaces[index].sample(self.rng)}

    # --- observe ---------------------------------------------------------------------------------
    def _observe(self, trial: Trial) -> None:
        key = config_key(trial.params)
        losers = self._losers.get(key)
        loser = losers.pop(0) if losers else None
        if losers == []:
            del self._losers[key]
        if loser is not None and loser in self._population:
            self._population.remove(loser)
        loss = self.loss(trial)
        self._population.append(_Member(copy.deepcopy(dict(trial.params)), math.inf if loss is None else loss))


def _holder(config: dict[str, Any], path: tuple[str, ...]) -> dict[str, Any]:
    """The dict that holds the parameter at ``path`` (``("layer", "Conv", "kernel")`` -> config["layer"])."""
    node = config
    for depth in range(0, len(path) - 1, 2):
        node = node[path[depth]]
    return node
