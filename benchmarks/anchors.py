"""Stronger anchors for search_quality.py: model-based peers run as their users would run them, each
asked one configuration at a time and told its value before the next.

    optuna-gp   optuna.samplers.GPSampler(seed=s) with its defaults (needs torch).
    smac-hpo    SMAC3's HyperparameterOptimizationFacade called directly (ask/tell), deterministic=True,
                n_trials = the run's trial count, seed s; not our SMAC tuner, which wraps the same library.
    hebo        HEBO (winner of the NeurIPS 2020 black-box optimisation challenge) with its defaults,
                suggest/observe one at a time; numpy's and torch's global generators seeded with s.

None of these libraries is a dependency of the project: they come from a benchmark-only virtual
environment (benchmarks/requirements-anchors.txt says how to make it). Each runner factory imports its
library first, so search_quality.py skips an entrant whose library is missing with a note. The anchors
search numeric spaces (uniform, loguniform, randint); any other parameter type skips that problem.
"""

from __future__ import annotations

import tempfile
from typing import Any, Callable, Mapping

from autotune_nb.errors import UnsupportedSpaceError
from autotune_nb.space import SearchSpace
from problems import Problem

Runner = Callable[[Problem, int, int], list[float]]
_NUMERIC = ("uniform", "loguniform", "randint")


def numeric_space(space: Mapping[str, Any], anchor: str) -> dict[str, Any]:
    """{name: distribution} of a space whose parameters are all numeric; otherwise the problem is skipped."""
    dists = dict(SearchSpace(space).items())
    for name, dist in dists.items():
        if dist.type_name not in _NUMERIC:
            raise UnsupportedSpaceError(f"{anchor} anchor: {name} is {dist.type_name} (searches {', '.join(_NUMERIC)})")
    return dists


def optuna_gp() -> Runner:
    import optuna
    import torch  # noqa: F401  GPSampler imports torch lazily: fail here, not mid-run

    from search_quality import optuna_runner

    return optuna_runner(lambda seed: optuna.samplers.GPSampler(seed=seed))


def smac_hpo() -> Runner:
    import logging

    from ConfigSpace import ConfigurationSpace, Float, Integer
    from smac import HyperparameterOptimizationFacade, Scenario
    from smac.runhistory.dataclasses import TrialValue

    def configspace(space: Mapping[str, Any], seed: int) -> ConfigurationSpace:
        cs = ConfigurationSpace(seed=seed)
        for name, dist in numeric_space(space, "smac-hpo").items():
            if dist.type_name == "randint":
                cs.add(Integer(name, (int(dist.low), int(dist.high) - 1)))
            else:
                cs.add(Float(name, (dist.low, dist.high), log=dist.log))
        return cs

    def run(problem: Problem, seed: int, n_trials: int) -> list[float]:
        values: list[float] = []
        with tempfile.TemporaryDirectory() as output:
            scenario = Scenario(configspace(problem.space, seed), deterministic=True, n_trials=n_trials,
                                seed=seed, output_directory=output)
            smac = HyperparameterOptimizationFacade(scenario, target_function=lambda config, seed=0: 0.0,
                                                    overwrite=True, logging_level=logging.ERROR)
            for _ in range(n_trials):
                info = smac.ask()
                value = problem.objective(dict(info.config))
                smac.tell(info, TrialValue(cost=value))
                values.append(value)
        return values

    return run


def hebo() -> Runner:
    import numpy as np
    import torch
    from hebo.design_space.design_space import DesignSpace
    from hebo.optimizers.hebo import HEBO

    def design_space(space: Mapping[str, Any]) -> DesignSpace:
        kinds = {"uniform": "num", "loguniform": "pow", "randint": "int"}
        params = []
        for name, dist in numeric_space(space, "hebo").items():
            high = dist.high - 1 if dist.type_name == "randint" else dist.high
            params.append({"name": name, "type": kinds[dist.type_name], "lb": dist.low, "ub": high})
        return DesignSpace().parse(params)

    def run(problem: Problem, seed: int, n_trials: int) -> list[float]:
        np.random.seed(seed)  # HEBO and pymoo draw from the global generators
        torch.manual_seed(seed)
        optimizer = HEBO(design_space(problem.space), scramble_seed=seed)
        kinds = {name: dist.type_name for name, dist in SearchSpace(problem.space).items()}
        values = []
        for _ in range(n_trials):
            suggestion = optimizer.suggest(n_suggestions=1)
            config = {name: int(value) if kinds[name] == "randint" else float(value)
                      for name, value in suggestion.iloc[0].items()}
            value = problem.objective(config)
            optimizer.observe(suggestion, np.array([[value]]))
            values.append(value)
        return values

    return run


#: entrant name -> runner factory, for search_quality.make_runner.
ANCHORS: dict[str, Callable[[], Runner]] = {"optuna-gp": optuna_gp, "smac-hpo": smac_hpo, "hebo": hebo}
