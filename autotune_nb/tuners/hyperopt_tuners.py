"""TPE, Random and Anneal: hyperopt's own algorithms, driven ask/tell.

One hyperopt ``Trials`` object and one ``Domain`` (built once from the SearchSpace) live as long as
the tuner. A suggestion asks ``tpe.suggest`` / ``rand.suggest`` / ``anneal.suggest`` for one new
document and converts its values into a configuration; an observation writes the trial's loss (or a
failure) into that configuration's document. ``fmin`` is never called: it would cost a call per
suggestion and knows nothing of trials that run elsewhere.

``Trials.refresh`` rebuilds hyperopt's list of every trial, so it is not called per observation
(importing n trials would cost O(n²)): inserted documents wait until the algorithm next reads
Trials, and one refresh then takes them all in. Random's algorithm never reads Trials, so Random
keeps none.

Every NNI ``_type`` becomes hyperopt's expression of the same distribution, labelled by its dimension
key ("lr", "layer/Conv/kernel"), and hyperopt's values are brought to NNI's exact semantics:
randint is drawn as ``randint(high - low)`` and shifted, and bounded q-types are clipped to
``[low, high]`` (hyperopt only rounds). A nested choice becomes a ``hp.choice`` whose branches hold
their sub-expressions, so hyperopt only draws the chosen branch's parameters.
"""

from __future__ import annotations

import dataclasses
import functools
import itertools
import math
from typing import Any, Callable, Mapping

from hyperopt import JOB_STATE_DONE, JOB_STATE_NEW, STATUS_FAIL, STATUS_OK, Domain, Trials, anneal, hp, rand, tpe

from ..class_args import require_one_of
from ..errors import ConfigurationError
from ..space import Choice, Distribution, LogUniform, QLogUniform, QUniform, SearchSpace, Uniform
from ..trial import Trial
from .base import Tuner, config_key

#: How often the algorithm is asked again when it proposes a configuration that is still pending.
REDRAWS = 5
CONSTANT_LIAR_TYPES = ("min", "max", "mean")


# --- the search space as hyperopt expressions ------------------------------------------------------
def _is_integral(x: float) -> bool:
    return float(x).is_integer()


_EXPRESSIONS: dict[str, Callable[[str, Any], Any]] = {
    "randint": lambda label, d: hp.randint(label, d.high - d.low),
    "uniform": lambda label, d: hp.uniform(label, d.low, d.high),
    "quniform": lambda label, d: hp.quniform(label, d.low, d.high, d.q),
    "loguniform": lambda label, d: hp.loguniform(label, math.log(d.low), math.log(d.high)),
    "qloguniform": lambda label, d: hp.qloguniform(label, math.log(d.low), math.log(d.high), d.q),
    "normal": lambda label, d: hp.normal(label, d.mu, d.sigma),
    "qnormal": lambda label, d: hp.qnormal(label, d.mu, d.sigma, d.q),
    "lognormal": lambda label, d: hp.lognormal(label, d.mu, d.sigma),
    "qlognormal": lambda label, d: hp.qlognormal(label, d.mu, d.sigma, d.q),
}


def _branch_prefix(label: str, choice: Choice, index: int) -> str:
    """The label prefix of a nested branch's parameters: the same keys as ``Dimension.key``."""
    return f"{label}/{choice.option_label(index)}/"


def _space_expression(space: SearchSpace, prefix: str) -> dict[str, Any]:
    return {name: _expression(prefix + name, dist) for name, dist in space.items()}


def _expression(label: str, dist: Distribution) -> Any:
    if isinstance(dist, Choice):
        # Plain options are drawn as their index; a nested branch carries its sub-space.
        branches = [
            _space_expression(dist.subspaces[i], _branch_prefix(label, dist, i)) if i in dist.subspaces else i
            for i in range(len(dist.options))
        ]
        return hp.choice(label, branches)
    return _EXPRESSIONS[dist.type_name](label, dist)


_BOUNDED = (Uniform, QUniform, LogUniform, QLogUniform)


def _from_hyperopt(dist: Distribution, raw: float) -> Any:
    """A hyperopt value of a non-choice parameter as NNI's value (same rounding, clipping and type)."""
    if dist.type_name == "randint":
        return int(round(raw)) + dist.low
    value = float(raw)
    if isinstance(dist, _BOUNDED):  # hyperopt rounds q-types but does not clip them
        value = min(max(value, dist.low), dist.high)
        integral = dist.quantized and all(_is_integral(v) for v in (dist.low, dist.high, dist.q))
    else:
        integral = dist.quantized and _is_integral(dist.q)
    return int(round(value)) if integral else value


def _to_hyperopt(dist: Distribution, value: Any) -> int | float:
    """Inverse of ``_from_hyperopt`` (for a choice: the option index)."""
    if isinstance(dist, Choice):
        return dist.index_of(value)
    if dist.type_name == "randint":
        return int(value) - dist.low
    return float(value)


class HyperoptSpace:
    """A SearchSpace as a hyperopt ``Domain``, and conversions between configurations and the
    ``{label: [value] or []}`` form of a trial document's ``misc["vals"]``."""

    def __init__(self, space: SearchSpace):
        self.space = space
        self.labels = [dim.key for dim in space.dimensions]
        self.domain = Domain(_never_evaluated, _space_expression(space, ""), pass_expr_memo_ctrl=None)

    def config(self, vals: Mapping[str, list]) -> dict[str, Any]:
        return self._config(self.space, vals, "")

    def _config(self, space: SearchSpace, vals: Mapping[str, list], prefix: str) -> dict[str, Any]:
        config: dict[str, Any] = {}
        for name, dist in space.items():
            label = prefix + name
            raw = vals[label][0]
            if not isinstance(dist, Choice):
                config[name] = _from_hyperopt(dist, raw)
                continue
            index = int(raw)
            if index in dist.subspaces:
                branch = self._config(dist.subspaces[index], vals, _branch_prefix(label, dist, index))
                config[name] = {"_name": dist.option_label(index), **branch}
            else:
                config[name] = dist.options[index]
        return config

    def vals(self, config: Mapping[str, Any]) -> dict[str, list]:
        vals: dict[str, list] = {label: [] for label in self.labels}
        self._fill_vals(self.space, config, "", vals)
        return vals

    def _fill_vals(self, space: SearchSpace, config: Mapping[str, Any], prefix: str, vals: dict) -> None:
        for name, dist in space.items():
            label = prefix + name
            vals[label] = [_to_hyperopt(dist, config[name])]
            if isinstance(dist, Choice) and vals[label][0] in dist.subspaces:
                index = vals[label][0]
                sub_config = {k: v for k, v in config[name].items() if k != "_name"}
                self._fill_vals(dist.subspaces[index], sub_config, _branch_prefix(label, dist, index), vals)


def _never_evaluated(*_args: Any) -> None:
    raise AssertionError("the hyperopt Domain is driven ask/tell: its objective is never called")


# --- the tuners -----------------------------------------------------------------------------------
@dataclasses.dataclass(eq=False)
class _Suggestion:
    """A configuration handed out and not yet observed; ``doc`` is its document in Trials, once
    Trials has been refreshed after its insertion."""

    tid: int
    vals: dict[str, list]
    doc: dict | None = None


class _HyperoptTuner(Tuner):
    """Shared ask/tell machinery; subclasses name the hyperopt algorithm."""

    #: ``algorithm(new_ids, domain, trials, seed) -> [trial document]``, set by each subclass.
    algorithm: Callable[..., list]
    #: Whether ``algorithm`` reads the trials in Trials; a tuner whose algorithm does not keeps none.
    learns_from_trials = True

    def __init__(self, space: SearchSpace | Mapping, *, optimize_mode: str = "maximize", seed: int | None = None):
        super().__init__(space, optimize_mode=optimize_mode, seed=seed)
        self._hyperopt = HyperoptSpace(self.space)
        self._trials = Trials()
        self._tids = itertools.count()
        # config key -> its suggestions still running (a list: a configuration may be observed twice).
        self._running: dict[str, list[_Suggestion]] = {}
        # Inserted into Trials since its last refresh, in order: their documents are not bound yet.
        self._unrefreshed: list[_Suggestion] = []

    # --- suggest ---------------------------------------------------------------------------------
    def _suggest(self, n: int) -> list[dict[str, Any]]:
        taken = {config_key(c) for c in self.pending}
        configs = []
        for _ in range(n):
            self._before_draw()
            config = self._new_config(taken)
            if config is None:
                break
            key = config_key(config)
            taken.add(key)
            self._running.setdefault(key, []).append(_Suggestion(next(self._tids), self._hyperopt.vals(config)))
            configs.append(config)
        return configs

    def _new_config(self, taken: set[str]) -> dict[str, Any] | None:
        """The algorithm's proposal; redrawn, then a random sample, while it equals a pending one."""
        for _ in range(REDRAWS):
            config = self._hyperopt.config(self._ask())
            if config_key(config) not in taken:
                return config
        return self.random_config(taken)

    def _ask(self) -> Mapping[str, list]:
        self._refresh()
        seed = int(self.rng.integers(2**31 - 1))
        # The id is only a key for the algorithm's draw: its document is not inserted as is.
        [doc] = self.algorithm([next(self._tids)], self._hyperopt.domain, self._trials, seed)
        return doc["misc"]["vals"]

    def _before_draw(self) -> None:
        """Hook: update what Trials says about running configurations before the algorithm draws."""

    # --- observe ---------------------------------------------------------------------------------
    def _observe(self, trial: Trial) -> None:
        key = config_key(trial.params)
        running = self._running.get(key)
        if running:
            suggestion = running.pop(0)
            if not running:
                del self._running[key]
        elif self.space.contains(trial.params):  # a trial this tuner did not suggest (e.g. resumed)
            suggestion = _Suggestion(next(self._tids), self._hyperopt.vals(trial.params))
        else:
            return
        if not self.learns_from_trials:
            return
        loss = self.loss(trial)
        result = {"status": STATUS_FAIL} if loss is None else {"status": STATUS_OK, "loss": loss}
        if suggestion.doc is None:
            self._insert(suggestion, result, JOB_STATE_DONE)
        else:
            suggestion.doc.update(result=result, state=JOB_STATE_DONE)

    def _insert(self, suggestion: _Suggestion, result: dict, state: int) -> None:
        tid, domain = suggestion.tid, self._hyperopt.domain
        misc = {
            "tid": tid,
            "cmd": domain.cmd,
            "workdir": domain.workdir,
            "idxs": {label: [tid] if value else [] for label, value in suggestion.vals.items()},
            "vals": suggestion.vals,
        }
        [doc] = self._trials.new_trial_docs([tid], [None], [result], [misc])
        doc["state"] = state
        self._trials.insert_trial_docs([doc])  # stores a copy of the document
        self._unrefreshed.append(suggestion)

    def _refresh(self) -> None:
        """Make Trials list the documents inserted since its last refresh, and bind each to its
        suggestion: Trials lists both states inserted (new, done), so they are its last ones, in order."""
        if not self._unrefreshed:
            return
        self._trials.refresh()
        inserted = self._trials.trials[-len(self._unrefreshed):]
        for suggestion, doc in zip(self._unrefreshed, inserted, strict=True):
            assert doc["tid"] == suggestion.tid, (doc["tid"], suggestion.tid)
            suggestion.doc = doc
        self._unrefreshed.clear()


def _check_liar_args(owner: str, parallel_optimize: Any, constant_liar_type: Any) -> None:
    if not isinstance(parallel_optimize, bool):
        raise ConfigurationError(f"{owner}: parallel_optimize must be True or False, got {parallel_optimize!r}")
    require_one_of(owner, "constant_liar_type", constant_liar_type, CONSTANT_LIAR_TYPES)


class _LiarTuner(_HyperoptTuner):
    """A hyperopt tuner whose algorithm learns from Trials, so a constant liar changes what it does."""

    def __init__(
        self,
        space: SearchSpace | Mapping,
        *,
        optimize_mode: str = "maximize",
        seed: int | None = None,
        parallel_optimize: bool = False,
        constant_liar_type: str = "min",
    ):
        _check_liar_args(type(self).__name__, parallel_optimize, constant_liar_type)
        super().__init__(space, optimize_mode=optimize_mode, seed=seed)
        self.parallel_optimize = parallel_optimize
        self.constant_liar_type = constant_liar_type

    def _before_draw(self) -> None:
        """Constant liar: with ``parallel_optimize``, running configurations enter Trials with a fake
        loss so the algorithm steers away from them. Before any loss is known there is none to tell."""
        if not self.parallel_optimize:
            return
        liar = self._liar_loss()
        if liar is None:
            return
        # The draw that follows refreshes Trials, so these documents are bound before any is observed.
        for suggestions in self._running.values():
            for suggestion in suggestions:
                result = {"status": STATUS_OK, "loss": liar}
                if suggestion.doc is None:
                    self._insert(suggestion, result, JOB_STATE_NEW)
                else:
                    suggestion.doc["result"] = result

    def _liar_loss(self) -> float | None:
        _, losses = self.scored_history()
        if not len(losses):
            return None
        return float({"min": losses.min, "max": losses.max, "mean": losses.mean}[self.constant_liar_type]())


class HyperoptTPE(_LiarTuner):
    """hyperopt's Tree-structured Parzen Estimator (NNI's TPE before NNI 2.7, "TPE_legacy").

    The first 20 suggestions are random (hyperopt's ``n_startup_jobs``). classArgs:
    ``parallel_optimize`` (bool, default False) gives running trials a fake loss, the min, max or
    mean (``constant_liar_type``, default "min") of the losses observed so far, so that
    configurations suggested while others run spread out.

    Example:
        >>> tuner = HyperoptTPE({"x": {"_type": "uniform", "_value": [0, 1]}}, seed=0)
        >>> [config] = tuner.suggest(1)
    """

    algorithm = staticmethod(functools.partial(tpe.suggest, verbose=False))


class AnnealTuner(_LiarTuner):
    """hyperopt's annealing: samples around one of the best trials, in a shrinking neighbourhood.

    Takes the same classArgs as TPE (as NNI's Anneal does).
    """

    algorithm = staticmethod(anneal.suggest)


class RandomTuner(_HyperoptTuner):
    """Independent samples from the prior (hyperopt's ``rand.suggest``)."""

    algorithm = staticmethod(rand.suggest)
    learns_from_trials = False
