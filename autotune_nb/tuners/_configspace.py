"""A SearchSpace as a ConfigSpace (for SMAC), and configurations both ways; ConfigSpace is imported by
whoever builds one (the SMAC tuner, after checking it is installed).

Each dimension of the flat view (``SearchSpace.dimensions``) is one hyperparameter named by its key
(``"layer/Conv/kernel"``):

* a choice (layer_choice and input_choice too) is a Categorical over its option indices, and a nested
  option's parameters are active under an EqualsCondition on that index;
* randint is an Integer over [low, high - 1] (NNI's upper bound is exclusive);
* uniform and loguniform are Floats over [low, high] (``log=True`` for the log types); quniform and
  qloguniform the same Floats, their values q-rounded as NNI defines them (``snap``);
* normal and qnormal are Floats with ConfigSpace's Normal(mu, sigma) prior, bounded at
  mu +- GAUSSIAN_REACH sigma (where this package takes a normal's values to lie).

lognormal and qlognormal are not translated: ConfigSpace's log-normal takes mu on the value's scale,
NNI's on the log's, so the prior would not be the one declared.
"""

from __future__ import annotations

from typing import Any

from ..space import GAUSSIAN_REACH, Choice, SearchSpace

_FLOATS = {"uniform", "quniform", "loguniform", "qloguniform", "normal", "qnormal"}


class ConfigSpaceTranslation:
    """The ConfigSpace of ``space`` and the maps between its configurations and ours."""

    SUPPORTED_TYPES = frozenset({"choice", "layer_choice", "input_choice", "randint", *_FLOATS})

    def __init__(self, space: SearchSpace, *, seed: int):
        import ConfigSpace as cs

        self.space = space
        self.configspace = cs.ConfigurationSpace(seed=seed)
        hyperparameters = [self._hyperparameter(cs, dim) for dim in space.dimensions]
        self.configspace.add(hyperparameters)
        for dim, hyperparameter in zip(space.dimensions, hyperparameters):
            if dim.conditions:  # the innermost choice: the outer ones deactivate it in turn
                parent, option = dim.conditions[-1]
                self.configspace.add(cs.EqualsCondition(hyperparameter, hyperparameters[parent], option))

    @staticmethod
    def _hyperparameter(cs: Any, dim: Any) -> Any:
        dist, name = dim.distribution, dim.key
        if isinstance(dist, Choice):
            return cs.Categorical(name, list(range(len(dist.options))), default=dist.index_of(dist.default))
        if dist.type_name == "randint":
            return cs.Integer(name, (dist.low, dist.high - 1), default=dist.default)
        if dist.type_name in ("normal", "qnormal"):
            reach = GAUSSIAN_REACH * float(dist.sigma)
            bounds = (float(dist.mu) - reach, float(dist.mu) + reach)
            return cs.Float(name, bounds, distribution=cs.Normal(float(dist.mu), float(dist.sigma)),
                            default=min(max(float(dist.default), bounds[0]), bounds[1]))
        return cs.Float(name, (float(dist.low), float(dist.high)), log=dist.log, default=float(dist.default))

    def to_configspace(self, config: dict[str, Any]) -> Any:
        """Our configuration as a ConfigSpace Configuration (a normal's value clipped to its bounds)."""
        from ConfigSpace import Configuration

        values = {}
        flat = self.space.flatten(config)
        for dim in self.space.dimensions:
            if dim.key not in flat:
                continue
            dist, value = dim.distribution, flat[dim.key]
            if isinstance(dist, Choice):
                values[dim.key] = dist.index_of(value)
            elif dist.type_name == "randint":
                values[dim.key] = int(value)
            else:
                hyperparameter = self.configspace[dim.key]
                values[dim.key] = min(max(float(value), hyperparameter.lower), hyperparameter.upper)
        return Configuration(self.configspace, values=values)

    def to_config(self, configuration: Any) -> dict[str, Any]:
        """A ConfigSpace Configuration as our configuration (q-types rounded, nested choices rebuilt)."""
        values = dict(configuration)
        flat: dict[str, Any] = {}
        for dim in self.space.dimensions:
            if dim.key not in values:
                continue
            dist, value = dim.distribution, values[dim.key]
            if isinstance(dist, Choice):
                label = dist.option_label(int(value))
                flat[dim.key] = list(label) if isinstance(label, list) else label  # no two configs share one
            elif dist.type_name == "randint":
                flat[dim.key] = int(value)
            else:
                flat[dim.key] = dist.snap(float(value))
        return self.space.unflatten(flat)
