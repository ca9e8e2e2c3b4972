"""A registry of classes by NNI name (case-insensitive), imported on first use.

Tuners and assessors are registered as ``"module:Class"`` paths, so that naming them (the magic's
help, a config check) costs no import; a class is imported when it is first built. A module of
scipy or hyperopt would otherwise add most of a second to every Study.
"""

from __future__ import annotations

import importlib
from typing import Generic, TypeVar

from .errors import ConfigurationError

T = TypeVar("T")


class Registry(Generic[T]):
    """``kind`` names the registered things in errors ("tuner", "assessor")."""

    def __init__(self, kind: str, entries: dict[str, str]):
        self.kind = kind
        self._entries = dict(entries)

    def register(self, name: str, target: str | type) -> None:
        """Register a class (or its "module:Class" path) under ``name``."""
        if isinstance(target, type):
            target = f"{target.__module__}:{target.__qualname__}"
        self._entries[name] = target

    def names(self) -> list[str]:
        return sorted(self._entries, key=str.lower)

    def load(self, name: str) -> type[T]:
        """The class registered as ``name`` (any case); an unknown name is refused, listing the known."""
        return _import(self.target(name))

    def target(self, name: str) -> str:
        """The "module:Class" path registered as ``name`` (any case), without importing it; an
        unknown name is refused, listing the known."""
        valid = f"valid names are {', '.join(self.names())} (case-insensitive)"
        if not isinstance(name, str):
            raise ConfigurationError(f"{self.kind} must be a name, got {name!r}; {valid}")
        matches = [key for key in self._entries if key.lower() == name.lower()]
        if not matches:
            raise ConfigurationError(f"unknown {self.kind} {name!r}; {valid}")
        return self._entries[matches[0]]

    def by_class_name(self, class_name: str) -> type[T] | None:
        """The registered class whose Python name is ``class_name`` (``CurveFitting``), or None."""
        for target in self._entries.values():
            if target.endswith(f":{class_name}"):
                return _import(target)
        return None


def _import(target: str) -> type:
    module_name, _, class_name = target.partition(":")
    return getattr(importlib.import_module(module_name), class_name)
