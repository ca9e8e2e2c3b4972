"""``SearchSpace``: an ordered, validated mapping of parameter names to distributions, with what a
tuner does with a whole space: defaults, sampling (nested choices resolved), membership, the grid,
NNI JSON in and out, and the flat unit-cube view (``dimensions.py`` does the flattening)."""

from __future__ import annotations

import itertools
import json
import math
from typing import Any, Iterator, Mapping, Sequence

import numpy as np

from ..errors import SearchSpaceError
from . import dimensions as flat
from .choices import Choice
from .dimensions import Dimension
from .distribution import Distribution
from .nni_json import parse_params, read_document


class SearchSpace(Mapping[str, Distribution]):
    """An ordered, validated mapping of parameter names to distributions.

    Build it from NNI's JSON dict (``SearchSpace({"lr": {"_type": "loguniform", "_value": [...]}})``),
    from Python declarations (``SearchSpace({"lr": at.loguniform(1e-4, 1e-1)})``) or a mix of both.

    Example:
        >>> space = SearchSpace({"lr": {"_type": "loguniform", "_value": [1e-4, 0.1]}})
        >>> cfg = space.sample(np.random.default_rng(0))
        >>> space.contains(cfg)
        True
    """

    def __init__(self, spec: Mapping[str, Any] | "SearchSpace", *, _path: tuple[str, ...] = ()):
        if isinstance(spec, SearchSpace):
            spec = spec.params
        self.params: dict[str, Distribution] = parse_params(spec, _path, SearchSpace)
        #: Levels of nested choices in this space (0: none).
        self.nesting = max((d.nesting for d in self.params.values() if isinstance(d, Choice)), default=0)
        if not _path:
            self.validate()
        self._dimensions: list[Dimension] | None = None

    # --- construction / serialisation ------------------------------------------------------
    @classmethod
    def from_json(cls, text_or_path: str) -> "SearchSpace":
        """Read an NNI search-space JSON document (a string, or a path to a ``.json`` file)."""
        return cls(read_document(text_or_path))

    def to_nni(self) -> dict:
        return {name: dist.to_nni() for name, dist in self.params.items()}

    def to_json(self) -> str:
        return json.dumps(self.to_nni())

    def validate(self, prefix: str = "") -> None:
        if not self.params and not prefix:
            raise SearchSpaceError("the search space is empty: declare at least one parameter")
        for name, dist in self.params.items():
            dist.validate(prefix + name)

    # --- Mapping protocol ------------------------------------------------------------------
    def __getitem__(self, name: str) -> Distribution:
        return self.params[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self.params)

    def __len__(self) -> int:
        return len(self.params)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SearchSpace) and self.to_nni() == other.to_nni()

    def __repr__(self) -> str:
        return f"SearchSpace({self.params!r})"

    # --- values ----------------------------------------------------------------------------
    def defaults(self) -> dict[str, Any]:
        return {name: dist.default for name, dist in self.params.items()}

    def sample(self, rng: np.random.Generator) -> dict[str, Any]:
        """One configuration; a nested choice samples only the chosen branch's sub-space."""
        config = {}
        for name, dist in self.params.items():
            value = dist.sample(rng)
            if isinstance(dist, Choice) and dist.is_nested:
                index = dist.index_of(value)
                if index in dist.subspaces:
                    value = {"_name": dist.option_label(index), **dist.subspaces[index].sample(rng)}
            config[name] = value
        return config

    def contains(self, config: Mapping[str, Any]) -> bool:
        """True when ``config`` has exactly this space's parameters, each a legal value."""
        return (
            isinstance(config, Mapping)
            and set(config) == set(self.params)
            and all(dist.contains(config[name]) for name, dist in self.params.items())
        )

    def grid(self) -> list[dict[str, Any]]:
        """Every configuration of a discrete space, in a deterministic order (the first parameter slowest)."""
        names = list(self.params)
        axes = []
        for name in names:
            try:
                axes.append(self.params[name].grid())
            except SearchSpaceError as exc:
                raise SearchSpaceError(f"{name}: {exc}") from None
        return [dict(zip(names, combo)) for combo in itertools.product(*axes)]

    def grid_size(self) -> int:
        return math.prod(len(self.params[n].grid()) for n in self.params)

    # --- flat view for numeric tuners --------------------------------------------------------
    @property
    def dimensions(self) -> list[Dimension]:
        """Every parameter, nested ones included, in a fixed order (parents before children)."""
        if self._dimensions is None:
            self._dimensions = flat.dimensions_of(self)
        return self._dimensions

    def flatten(self, config: Mapping[str, Any]) -> dict[str, Any]:
        """``{dimension key: value}`` for the dimensions active in ``config``; choices by their value."""
        return flat.flat_values(self.dimensions, config)

    def unflatten(self, values: Mapping[str, Any]) -> dict[str, Any]:
        """The configuration whose ``flatten`` is ``values`` (nested choices rebuilt)."""
        return flat.unflatten(self.dimensions, values)

    def encode(self, config: Mapping[str, Any]) -> np.ndarray:
        """The configuration as a point of the unit cube; inactive dimensions are NaN."""
        return flat.encode(self.dimensions, config)

    def decode(self, point: Sequence[float]) -> dict[str, Any]:
        """The configuration at a unit-cube point (NaN in an active dimension means its default)."""
        return flat.decode(self.dimensions, point)
