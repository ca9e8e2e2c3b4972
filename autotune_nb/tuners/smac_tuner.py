"""SMAC (NNI's ``SMAC`` tuner and its classArgs): SMAC3 2.x's hyperparameter-optimisation facade (a
random forest over ConfigSpace, ask/tell), behind the extra ``pip install autotune_nb[smac]``.

The space is translated to a ConfigSpace (``_configspace.py``). Every trial SMAC asked for is told
back with its loss; a trial it did not ask for (a resumed or warm-started study's) is told as a trial
of the configuration it ran. A failed trial is told nothing: SMAC keeps it as running, so never
proposes it again, and no loss is invented for it.

SMAC runs each configuration once (``deterministic``). Two of its proposals may still be one
configuration of ours (q-types round): a proposal that is running here, or finished with
``config_dedup=True`` (NNI's classArg), is told the loss of its twin once known and SMAC is asked
again, at most ``RANDOM_ATTEMPTS`` times (or until SMAC has no configuration left) before a random new
configuration is taken instead. With ``config_dedup=False`` a finished twin runs again (a running one
never does).
"""

from __future__ import annotations

import logging
import math
import tempfile
from typing import Any

from ..class_args import require_bool
from ..errors import ConfigurationError
from ..space import SearchSpace
from ..trial import Trial
from ._configspace import ConfigSpaceTranslation
from .base import RANDOM_ATTEMPTS, Tuner, config_key

#: The configurations of SMAC's initial design (Sobol) before its forest is used. SMAC's default scales
#: with the number of trials, which a study does not tell its tuner.
_INITIAL_CONFIGS = 10


def _import_smac():
    try:
        import smac
        from smac.main.exceptions import ConfigurationSpaceExhaustedException
        from smac.runhistory.dataclasses import TrialInfo, TrialValue
    except ImportError as exc:
        raise ConfigurationError(
            f"the SMAC tuner needs SMAC3 ({exc}): pip install autotune_nb[smac]"
        ) from None
    return smac, ConfigurationSpaceExhaustedException, TrialInfo, TrialValue


class SMACTuner(Tuner):
    """SMAC3's random-forest Bayesian optimisation over the space as a ConfigSpace.

    Args:
        config_dedup: True never proposes a finished configuration again; False may run one again
            where two of SMAC's proposals round to it.

    Example:
        >>> tuner = SMACTuner({"x": {"_type": "uniform", "_value": [0, 1]}}, optimize_mode="minimize", seed=0)
        >>> [config] = tuner.suggest(1)
    """

    supported_types = ConfigSpaceTranslation.SUPPORTED_TYPES

    def __init__(self, space: SearchSpace | dict, *, optimize_mode: str = "maximize", seed: int | None = None,
                 config_dedup: bool = False):
        smac, self._exhausted, self._trial_info, self._trial_value = _import_smac()
        super().__init__(space, optimize_mode=optimize_mode, seed=seed)
        self.config_dedup = require_bool("SMAC", "config_dedup", config_dedup)
        smac_seed = int(self.rng.integers(2**31 - 1))
        self.translation = ConfigSpaceTranslation(self.space, seed=smac_seed)
        # SMAC writes its run history to disk: a folder of its own, removed with the tuner.
        self._folder = tempfile.TemporaryDirectory(prefix="autotune-smac-")
        facade = smac.HyperparameterOptimizationFacade
        scenario = smac.Scenario(self.translation.configspace, deterministic=True, n_trials=2**31 - 1,
                                 seed=smac_seed, output_directory=f"{self._folder.name}/smac")
        self._smac = facade(scenario, target_function=_not_called, overwrite=True, logging_level=logging.ERROR,
                            initial_design=facade.get_initial_design(scenario, n_configs=_INITIAL_CONFIGS))
        self._asked: dict[str, list[Any]] = {}  # config_key -> SMAC trial infos awaiting its loss
        self._losses: dict[str, float] = {}  # config_key -> the loss of a finished configuration
        #: The one seed SMAC runs configurations with (deterministic): that of the first trial in its
        #: history, asked or told; a trial it did not ask for is told with it, so it is not run again.
        self._trial_seed = smac_seed
        self._seed_known = False

    # --- suggestions --------------------------------------------------------------------------
    def _suggest(self, n: int) -> list[dict[str, Any]]:
        taken = {config_key(config) for config in self.pending}
        if self.config_dedup:
            taken.update(config_key(trial.params) for trial in self.history)
        chosen = []
        for _ in range(n):
            config = self._ask_new(taken)
            if config is None:
                break
            taken.add(config_key(config))
            chosen.append(config)
        return chosen

    def _ask_new(self, taken: set[str]) -> dict[str, Any] | None:
        for _ in range(RANDOM_ATTEMPTS):
            try:
                info = self._smac.ask()
            except self._exhausted:  # SMAC has asked for every configuration it can tell apart
                break
            if not self._seed_known:
                self._trial_seed, self._seed_known = info.seed, True
            config = self.translation.to_config(info.config)
            key = config_key(config)
            self._asked.setdefault(key, []).append(info)
            if key not in taken:
                return config
            if key in self._losses:  # a twin of a finished configuration: its loss is known
                self._tell(key, self._losses[key])
        return self.random_config(taken)

    # --- results ------------------------------------------------------------------------------
    def _observe(self, trial: Trial) -> None:
        loss = self.loss(trial)
        if loss is None or not math.isfinite(loss):
            return
        key = config_key(trial.params)
        self._losses[key] = loss
        if key not in self._asked:
            self._asked[key] = [self._trial_info(config=self.translation.to_configspace(trial.params),
                                                 seed=self._trial_seed)]
            self._seed_known = True
        self._tell(key, loss)

    def _tell(self, key: str, loss: float) -> None:
        for info in self._asked.pop(key, []):
            self._smac.tell(info, self._trial_value(cost=loss))


def _not_called(config: Any, seed: int = 0) -> float:
    """SMAC's facade wants a target function; ask/tell never calls it."""
    raise AssertionError("SMAC's target function is not called under ask/tell")
