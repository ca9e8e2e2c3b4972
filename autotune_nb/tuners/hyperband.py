"""Hyperband (Li et al., "Hyperband: A Novel Bandit-Based Approach to Hyperparameter Optimization",
JMLR 2018), NNI's advisor of that name: classArgs ``R``, ``eta``, ``exec_mode``, ``optimize_mode``.

A bracket ``s`` (s_max = floor(log_eta R) down to 0, then again) starts ``n = ceil((s_max + 1) eta^s
/ (s + 1))`` configurations at budget ``r = R eta^-s``; successive halving keeps the best
``floor(n_i / eta)`` of each rung for the next one, at eta times the budget, until budget R
(``bracket_plan`` is the paper's table). Each trial carries its budget, bracket, rung and, when
promoted, its parent (``directives.py``): a promoted configuration's trial starts from the parent's
checkpoint folder when the parent saved one (``checkpoints.py``) and is otherwise rerun at the
larger budget. Brackets are numbered 0, 1, 2, ... over the study; ``exec_mode="parallelism"``
opens the next bracket whenever the open ones have nothing to run (their rungs wait for running
trials), so free slots never idle; ``"serial"`` runs one bracket at a time.

The brackets are rebuilt from the trials' directives when a study is resumed: its trials are
observed in number order, rungs that had ended promote again (the same configurations), trials the
old process lost are run again, and rung 0 is completed with new configurations. Subclasses (BOHB)
choose rung 0's configurations through ``_new_config``.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Mapping

from ..class_args import require_int, require_one_of
from ..directives import Directives
from ..space import SearchSpace
from ..trial import Trial
from .base import Tuner, config_key

EXEC_MODES = ("parallelism", "serial")


def bracket_plan(R: int, eta: int) -> list[tuple[int, list[tuple[int, float]]]]:
    """Every bracket of one Hyperband iteration: ``(s, [(n_i, r_i) for each rung i])``, s from s_max
    down to 0, as in the paper's Table 1 (R=81, eta=3: s=4 starts 81 configurations at budget 1)."""
    s_max = 0
    while eta ** (s_max + 1) <= R:
        s_max += 1
    plan = []
    for s in range(s_max, -1, -1):
        n = -(-(s_max + 1) * eta**s // (s + 1))  # ceil, in integers
        plan.append((s, [(n // eta**i, R * eta ** (i - s)) for i in range(s + 1)]))
    return plan


@dataclasses.dataclass
class _Member:
    """One configuration on one rung: queued, then run by trial ``trial`` (its loss, once ended)."""

    config: dict[str, Any]
    parent: int | None = None
    trial: int | None = None
    loss: float | None = None
    state: str = "queued"  # queued | running | ended


class _Bracket:
    def __init__(self, index: int, s: int, rungs: list[tuple[int, float]]):
        self.index, self.s = index, s
        self.sizes = [n for n, _ in rungs]
        self.budgets = [budget for _, budget in rungs]
        self.members: list[list[_Member]] = [[] for _ in rungs]

    @property
    def finished(self) -> bool:
        last = self.members[-1]
        return bool(last) and len(last) == self.sizes[-1] and all(m.state == "ended" for m in last)

    def rung_ended(self, rung: int) -> bool:
        members = self.members[rung]
        return len(members) == self.sizes[rung] and all(m.state == "ended" for m in members)

    def promote(self, rung: int, eta: int) -> None:
        """Rung ``rung`` ended: its best ``floor(n / eta)`` (by loss; none without one) go up."""
        ranked = sorted((m for m in self.members[rung] if m.loss is not None), key=lambda m: m.loss)
        chosen = ranked[: self.sizes[rung] // eta]
        self.sizes[rung + 1] = len(chosen)
        self.members[rung + 1] = [_Member(dict(m.config), parent=m.trial) for m in chosen]


class HyperbandTuner(Tuner):
    """Hyperband's brackets of successive halving over random configurations (module docstring).

    Args:
        R: the largest budget a trial gets (in the unit trials report in, e.g. epochs).
        eta: the halving rate: a rung keeps 1/eta of its configurations at eta times the budget.
        exec_mode: "parallelism" (open brackets side by side to fill the slots) or "serial".
    """

    name = "Hyperband"

    def __init__(self, space: SearchSpace | Mapping, *, optimize_mode: str = "maximize", seed: int | None = None,
                 R: int = 60, eta: int = 3, exec_mode: str = "parallelism"):
        owner = type(self).name
        self.R = require_int(owner, "R", R, minimum=1)
        self.eta = require_int(owner, "eta", eta, minimum=2)
        self.exec_mode = require_one_of(owner, "exec_mode", exec_mode, EXEC_MODES)
        super().__init__(space, optimize_mode=optimize_mode, seed=seed)
        self._plan = bracket_plan(self.R, self.eta)
        self._brackets: dict[int, _Bracket] = {}
        self._given: dict[str, tuple[_Bracket, int, _Member]] = {}  # pending config -> its place
        self._taken: set[str] = set()  # every rung-0 configuration so far

    # --- the tuner protocol ------------------------------------------------------------------------
    def _suggest(self, n: int) -> list[dict[str, Any]]:
        configs = []
        while len(configs) < n:
            place = self._next_member()
            if place is None:
                break
            bracket, rung, member = place
            member.state = "running"
            self._given[config_key(member.config)] = place
            configs.append(member.config)
        return configs

    def directives(self, config: Mapping[str, Any]) -> Directives | None:
        place = self._given.get(config_key(config))
        if place is None:
            return None
        bracket, rung, member = place
        return Directives(budget=self._budget(bracket, rung), bracket=bracket.index, rung=rung, parent=member.parent)

    def _observe(self, trial: Trial) -> None:
        place = self._place_of(trial)
        if place is None:  # not one of ours (a warm start): it has no budget to compare at
            return
        bracket, rung, member = place
        member.trial = trial.number
        if trial.interrupted:  # canceled or lost with its process: run it again
            member.state = "queued"
            return
        member.state, member.loss = "ended", self.loss(trial)
        self._ended(trial, self._budget(bracket, rung))
        if rung < bracket.s and bracket.rung_ended(rung):
            bracket.promote(rung, self.eta)

    def _ended(self, trial: Trial, budget: float) -> None:
        """Hook: ``trial`` of ours ended (not interrupted) at ``budget``; BOHB's model learns here."""

    def checkpoints_needed(self) -> set[int]:
        """The trials of unfinished brackets: a later rung may continue from any of them."""
        return {m.trial for b in self._brackets.values() if not b.finished
                for rung in b.members for m in rung if m.trial is not None}

    # --- brackets ----------------------------------------------------------------------------------
    def _budget(self, bracket: _Bracket, rung: int) -> float:
        """The rung's budget, a whole number of units (at least 1) as epochs are counted."""
        return float(max(1, round(bracket.budgets[rung])))

    def _bracket(self, index: int) -> _Bracket:
        if index not in self._brackets:
            s, rungs = self._plan[index % len(self._plan)]
            self._brackets[index] = _Bracket(index, s, rungs)
        return self._brackets[index]

    def _next_member(self) -> tuple[_Bracket, int, _Member] | None:
        """The next configuration to run: a queued one of the oldest open bracket, else a new one for
        its rung 0, else (parallelism, or nothing open in serial) from a new bracket."""
        open_brackets = [b for _, b in sorted(self._brackets.items()) if not b.finished]
        for bracket in open_brackets:
            place = self._queued(bracket)
            if place is not None:
                return place
        if self.exec_mode == "serial" and open_brackets:
            return None
        return self._queued(self._bracket(max(self._brackets, default=-1) + 1))

    def _queued(self, bracket: _Bracket) -> tuple[_Bracket, int, _Member] | None:
        for rung, members in enumerate(bracket.members):
            for member in members:
                if member.state == "queued":
                    return bracket, rung, member
        first = bracket.members[0]
        if len(first) < bracket.sizes[0]:
            config = self._new_config(self._budget(bracket, 0))
            if config is not None:
                self._taken.add(config_key(config))
                first.append(_Member(config))
                return bracket, 0, first[-1]
        return None

    def _new_config(self, budget: float) -> dict[str, Any] | None:
        """A configuration never run before, for a new member of rung 0 (random here)."""
        return self.random_config(self._taken)

    def _place_of(self, trial: Trial) -> tuple[_Bracket, int, _Member] | None:
        """Where an ended trial stood: its suggestion, or (a resumed study) its directives."""
        key = config_key(trial.params)
        place = self._given.pop(key, None)
        if place is not None:
            return place
        directives = trial.directives
        if directives is None or directives.bracket is None or directives.rung is None:
            return None
        bracket = self._bracket(directives.bracket)
        if directives.rung > bracket.s:
            return None
        members = bracket.members[directives.rung]
        for member in members:
            if config_key(member.config) == key and member.state != "ended":
                return bracket, directives.rung, member
        if directives.rung > 0:  # a promotion its rung below does not explain: not ours to place
            return None
        self._taken.add(key)
        members.append(_Member(dict(trial.params)))
        return bracket, 0, members[-1]
