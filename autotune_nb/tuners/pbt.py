"""Population-based training (Jaderberg et al., "Population Based Training of Neural Networks", 2017),
NNI's PBTTuner: classArgs ``population_size``, ``factor``, ``resample_probability``, ``fraction``.

A population of ``population_size`` members trains in generations. Each member's trial of a
generation starts from its parent's checkpoint (``at.checkpoint_dir`` holds a copy of it; NNI code
reads ``load_checkpoint_dir`` / ``save_checkpoint_dir``: ``checkpoints.py``), trains for the span
its code decides (a few epochs) and saves its state there. When every member of a generation has
ended, they are ranked by result. The bottom ``fraction`` exploit: each takes the checkpoint and the
hyperparameters of a member drawn from the top ``fraction``, then explores: each hyperparameter is
resampled from the space with ``resample_probability``, else a number is multiplied by ``1 -
factor`` or ``1 + factor`` (kept in its bounds; a choice keeps its option). The others continue
from their own checkpoint with their own hyperparameters.

Each trial carries its ``generation``, ``member`` and ``parent`` (directives.py): the lineage the
dashboard and the export show, and what a resumed study rebuilds the population from. Only the
checkpoints of the latest generation are needed; the study deletes older ones.
"""

from __future__ import annotations

from typing import Any, Mapping

from ..class_args import require_int, require_number
from ..directives import Directives
from ..space import Choice, SearchSpace
from ..trial import Trial
from .base import RANDOM_ATTEMPTS, Tuner, config_key


class PBTTuner(Tuner):
    """Population-based training over generations (module docstring)."""

    name = "PBTTuner"
    supports_nested = False

    def __init__(self, space: SearchSpace | Mapping, *, optimize_mode: str = "maximize", seed: int | None = None,
                 population_size: int = 10, factor: float = 0.2, resample_probability: float = 0.25,
                 fraction: float = 0.2):
        owner = self.name
        self.population_size = require_int(owner, "population_size", population_size, minimum=2)
        self.factor = require_number(owner, "factor", factor, above=0, below=1)
        self.resample_probability = require_number(owner, "resample_probability", resample_probability,
                                                   minimum=0, maximum=1)
        self.fraction = require_number(owner, "fraction", fraction, above=0, maximum=0.5,
                                       why="(the top and the bottom fraction must not overlap)")
        super().__init__(space, optimize_mode=optimize_mode, seed=seed)
        self.generation = 0
        #: member -> (params, parent trial) of the current generation; filled at random for generation 0.
        self._plan: dict[int, tuple[dict[str, Any], int | None]] = {}
        self._queue: list[int] = list(range(self.population_size))  # members not running nor ended
        self._given: dict[str, tuple[int, int]] = {}  # pending config -> (generation, member)
        self._ended: dict[int, Trial] = {}  # member -> its ended trial of the current generation
        self._latest: dict[int, int] = {}  # member -> its last ended trial (the checkpoint it continues from)

    # --- the tuner protocol ------------------------------------------------------------------------
    def _suggest(self, n: int) -> list[dict[str, Any]]:
        configs = []
        while len(configs) < n and self._queue:
            member = self._queue.pop(0)
            params, _ = self._member_plan(member)
            self._given[config_key(params)] = (self.generation, member)
            configs.append(params)
        return configs

    def directives(self, config: Mapping[str, Any]) -> Directives | None:
        place = self._given.get(config_key(config))
        if place is None:
            return None
        generation, member = place
        return Directives(generation=generation, member=member, parent=self._plan[member][1])

    def _observe(self, trial: Trial) -> None:
        place = self._place_of(trial)
        if place is None:
            return
        generation, member = place
        if generation != self.generation:  # an earlier generation's straggler: nothing to decide
            return
        parent = trial.directives.parent if trial.directives is not None else self._plan.get(member, (None, None))[1]
        self._plan[member] = (dict(trial.params), parent)  # a resumed study's stored trial wins over a new draw
        if member in self._queue:
            self._queue.remove(member)
        if trial.interrupted:  # canceled, or lost with its process: run the same step again
            self._queue.append(member)
            return
        self._ended[member] = trial
        self._latest[member] = trial.number
        if len(self._ended) == self.population_size:
            self._next_generation()

    def checkpoints_needed(self) -> set[int]:
        """The parents of this generation's members (those not started yet copy them) and each
        member's last ended trial (the next generation starts from those)."""
        parents = {parent for _, parent in self._plan.values() if parent is not None}
        return parents | set(self._latest.values())

    # --- generations -------------------------------------------------------------------------------
    def _place_of(self, trial: Trial) -> tuple[int, int] | None:
        place = self._given.pop(config_key(trial.params), None)
        if place is not None:
            return place
        directives = trial.directives
        if directives is None or directives.generation is None or directives.member is None:
            return None
        if directives.member >= self.population_size:
            return None
        return directives.generation, directives.member

    def _member_plan(self, member: int) -> tuple[dict[str, Any], int | None]:
        if member not in self._plan:  # generation 0: a random configuration no other member has
            taken = {config_key(params) for params, _ in self._plan.values()}
            self._plan[member] = (self.random_config(taken) or self.space.sample(self.rng), None)
        return self._plan[member]

    def _next_generation(self) -> None:
        """Rank the ended generation; the bottom fraction exploit a top member and explore."""
        def rank_key(member: int) -> float:
            loss = self.loss(self._ended[member])
            return float("inf") if loss is None else loss

        ranked = sorted(self._ended, key=rank_key)
        cut = max(1, int(self.population_size * self.fraction))
        top, bottom = ranked[:cut], ranked[-cut:]
        plan = {member: (dict(self._ended[member].params), self._ended[member].number) for member in ranked}
        for member in bottom:
            source = top[int(self.rng.integers(len(top)))]
            taken = {config_key(params) for other, (params, _) in plan.items() if other != member}
            plan[member] = (self._explore(plan[source][0], taken), self._ended[source].number)
        self.generation += 1
        self._plan, self._ended = plan, {}
        self._queue = list(range(self.population_size))

    def _explore(self, params: Mapping[str, Any], taken: set[str]) -> dict[str, Any]:
        """``params`` perturbed (module docstring), differing from every configuration in ``taken``."""
        for _ in range(RANDOM_ATTEMPTS):
            fresh = self.space.sample(self.rng)
            explored = {}
            for dim in self.space.dimensions:
                key, dist = dim.key, dim.distribution
                if self.rng.random() < self.resample_probability:
                    explored[key] = fresh[key]
                else:
                    explored[key] = self._perturbed(dist, params[key])
            if config_key(explored) not in taken:
                return explored
        return self.random_config(taken) or self.space.sample(self.rng)

    def _perturbed(self, dist: Any, value: Any) -> Any:
        """A number times 1 -/+ factor, in the distribution's bounds and grid; a choice as it is."""
        if isinstance(dist, Choice):
            return value
        scaled = value * (1 + self.factor if self.rng.random() < 0.5 else 1 - self.factor)
        low, high = getattr(dist, "low", None), getattr(dist, "high", None)
        if low is not None and high is not None:
            scaled = min(max(scaled, low), high)
        unit = min(max(dist.to_unit(scaled), 0.0), 1.0)
        return dist.from_unit(unit)
