"""A tuner that suggests given configurations in order: tests of the execution layer use it to
decide exactly what each trial does."""

from __future__ import annotations

from ..tuners import register_tuner
from ..tuners.base import Tuner


class ScriptedTuner(Tuner):
    """Suggests ``configs`` in order, then nothing (the study ends)."""

    def __init__(self, space, *, optimize_mode="maximize", seed=None, configs=()):
        super().__init__(space, optimize_mode=optimize_mode, seed=seed)
        self._queue = [dict(config) for config in configs]

    def _suggest(self, n):
        suggested, self._queue[:n] = self._queue[:n], []
        return suggested


register_tuner("Scripted", ScriptedTuner)
