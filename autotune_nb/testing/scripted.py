"""For tests of the execution layer: a tuner that suggests given configurations in order (so a
test decides exactly what each trial does), and helpers over the scripted trials."""

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


def sleeps(seconds: float, count: int) -> list[dict]:
    """``count`` configurations of a trial that sleeps ``seconds`` (action "sleep")."""
    return [{"action": "sleep", "t": seconds}] * count


def max_overlap(intervals) -> int:
    """The largest number of (start, end) intervals open at one moment."""
    edges = sorted([(start, 1) for start, _ in intervals] + [(end, -1) for _, end in intervals])
    best = current = 0
    for _, change in edges:
        current += change
        best = max(best, current)
    return best
