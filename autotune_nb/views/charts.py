"""The dashboard's pure data step: trial records in, one small immutable record per chart out.

Nothing here touches a widget. The live dashboard (``notebook/dashboard.py``) draws these records
with bqplot and ``static.py`` writes them as HTML and SVG, and both are tested through plain
functions of ``list[Trial]``. Which result is best is ``Direction``'s rule (``vocabulary.py``): the
ranking sorts by ``-sign * value`` and the best-so-far line accumulates the maximum of ``sign * value``.
Every function makes a bounded number of passes over the trials with numpy, and caps what it hands
on to a chart (curves, parallel-coordinate lines), so a refresh of a 10,000-trial study stays cheap
and its messages small.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any, Mapping, Sequence

import numpy as np

from ..space import SearchSpace
from ..trial import Trial, TrialState
from ..vocabulary import Direction

#: The states a finished trial can end in, in the order the charts list them.
FINISHED_STATES = (
    TrialState.SUCCEEDED,
    TrialState.EARLY_STOPPED,
    TrialState.FAILED,
    TrialState.CANCELED,
    TrialState.TIMEOUT,
)

STATE_COLORS = {
    TrialState.WAITING: "#bab0ac",
    TrialState.RUNNING: "#59a14f",
    TrialState.SUCCEEDED: "#4e79a7",
    TrialState.EARLY_STOPPED: "#f28e2b",
    TrialState.FAILED: "#e15759",
    TrialState.CANCELED: "#9c9c9c",
    TrialState.TIMEOUT: "#b07aa1",
}

_STATE_CODES = {state: code for code, state in enumerate(TrialState)}


def state_label(state: TrialState) -> str:
    """``EARLY_STOPPED`` -> ``early-stopped``: how the dashboard names a state."""
    return state.value.lower().replace("_", "-")


# --- the records -----------------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class Progress:
    """The header: counts per state (every ``TrialState`` value), trials done, times, the best trial."""

    counts: Mapping[str, int]
    done: int
    total: int | None
    elapsed: float
    eta: float | None
    best: Trial | None


@dataclasses.dataclass(frozen=True)
class StatePoints:
    """The finished trials of one state that have a value to plot: trial numbers and values."""

    state: TrialState
    numbers: np.ndarray
    values: np.ndarray


@dataclasses.dataclass(frozen=True)
class ResultsChart:
    """Result against trial number, one ``StatePoints`` per ``FINISHED_STATES`` entry (same order),
    and the best-so-far line over the succeeded trials, as the corners of a step-after line: the
    trials that improved the best, plus the last succeeded trial.

    A succeeded trial plots its result; another finished trial plots its last intermediate result,
    if it reported one. Non-finite values are left out of the chart (never out of the best trial).
    """

    points: tuple[StatePoints, ...]
    best_numbers: np.ndarray
    best_values: np.ndarray

    def of(self, state: TrialState) -> StatePoints:
        return self.points[FINISHED_STATES.index(state)]


@dataclasses.dataclass(frozen=True)
class CurvesChart:
    """Intermediate results against step for the latest trials that reported any.

    ``steps`` and ``values`` are (curves, longest curve) arrays padded with NaN, which bqplot draws
    as the end of a line. ``stopped_*`` are the last points of the early-stopped curves shown.
    """

    numbers: np.ndarray
    states: tuple[TrialState, ...]
    steps: np.ndarray
    values: np.ndarray
    stopped_steps: np.ndarray
    stopped_values: np.ndarray
    total: int


@dataclasses.dataclass(frozen=True)
class ParallelChart:
    """Parallel coordinates: one line per succeeded trial (the best ``max_lines``, the best drawn
    last), over one axis per search-space dimension plus the result axis.

    ``coordinates[i, j]`` is trial i's unit-cube coordinate on axis j (``SearchSpace.encode``: log
    axes are warped, a choice sits at the centre of its option's cell, an inactive nested
    dimension is NaN), and the result axis is scaled to [0, 1] over ``value_range``.
    """

    labels: tuple[str, ...]
    coordinates: np.ndarray
    values: np.ndarray
    numbers: np.ndarray
    value_range: tuple[float, float] | None
    total: int


@dataclasses.dataclass(frozen=True)
class TrialRow:
    """One line of a trials table."""

    number: int
    state: TrialState
    value: float | None
    params: Mapping[str, Any]
    duration: float | None
    gpu: str | None
    error: str | None


@dataclasses.dataclass(frozen=True)
class DashboardData:
    progress: Progress
    results: ResultsChart
    curves: CurvesChart
    parallel: ParallelChart
    top: tuple[TrialRow, ...]
    failures: tuple[TrialRow, ...]


# --- columns: one pass over the trials -------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class Columns:
    """The trials (sorted by number) and their per-trial numbers as arrays: what the chart
    functions take. Build it once per refresh with ``columns_of``."""

    trials: tuple[Trial, ...]
    numbers: np.ndarray
    states: np.ndarray
    values: np.ndarray   # the result; NaN where there is none
    plotted: np.ndarray  # the result, or the last intermediate of a trial that ended without one

    def mask(self, state: TrialState) -> np.ndarray:
        return self.states == _STATE_CODES[state]


def columns_of(trials: Sequence[Trial]) -> Columns:
    ordered = tuple(sorted(trials, key=lambda t: t.number))
    n = len(ordered)
    numbers = np.fromiter((t.number for t in ordered), dtype=np.int64, count=n)
    states = np.fromiter((_STATE_CODES[t.state] for t in ordered), dtype=np.int8, count=n)
    values = np.fromiter((math.nan if t.value is None else t.value for t in ordered), dtype=float, count=n)
    last = np.fromiter(
        (t.intermediates[-1][1] if t.intermediates else math.nan for t in ordered), dtype=float, count=n
    )
    succeeded = states == _STATE_CODES[TrialState.SUCCEEDED]
    plotted = np.where(succeeded, values, last)
    return Columns(ordered, numbers, states, values, plotted)


def _ranked(columns: Columns, direction: Direction | str) -> np.ndarray:
    """Indices of the succeeded trials with a result, best first (ties: the lower trial number)."""
    candidates = np.flatnonzero(columns.mask(TrialState.SUCCEEDED) & ~np.isnan(columns.values))
    order = np.argsort(-Direction(direction).sign * columns.values[candidates], kind="stable")
    return candidates[order]


# --- the charts ------------------------------------------------------------------------------------
def progress(columns: Columns, direction: Direction | str, total: int | None, now: float | None) -> Progress:
    """``now`` (a ``time.time()`` value) while the study runs; None once it ended, and the elapsed
    time then runs to the last trial's end."""
    counts = {state.value: int(np.count_nonzero(columns.states == code)) for state, code in _STATE_CODES.items()}
    done = sum(counts[state.value] for state in FINISHED_STATES)
    starts = [t.started_at for t in columns.trials if t.started_at is not None]
    ends = [t.finished_at for t in columns.trials if t.finished_at is not None]
    end = now if now is not None else max(ends, default=None)
    elapsed = max(0.0, end - min(starts)) if starts and end is not None else 0.0
    eta = None
    if total is not None and 0 < done < total and elapsed > 0:
        eta = elapsed / done * (total - done)
    ranked = _ranked(columns, direction)
    best = columns.trials[ranked[0]] if len(ranked) else None
    return Progress(counts, done, total, elapsed, eta, best)


def results_chart(columns: Columns, direction: Direction | str) -> ResultsChart:
    finite = np.isfinite(columns.plotted)

    def points_of(state: TrialState) -> StatePoints:
        mask = columns.mask(state) & finite
        return StatePoints(state, columns.numbers[mask], columns.plotted[mask])

    points = tuple(points_of(state) for state in FINISHED_STATES)
    succeeded = points[0]
    if not len(succeeded.values):
        return ResultsChart(points, np.empty(0), np.empty(0))
    sign = Direction(direction).sign
    best = sign * np.maximum.accumulate(sign * succeeded.values)
    # A step line needs only the trials that improved the best, and the last trial to end on.
    keep = np.flatnonzero(np.r_[True, best[1:] != best[:-1]])
    if keep[-1] != len(best) - 1:
        keep = np.r_[keep, len(best) - 1]
    return ResultsChart(points, succeeded.numbers[keep].astype(float), best[keep])


def curves_chart(columns: Columns, max_curves: int = 100) -> CurvesChart:
    """The latest ``max_curves`` trials (by number) that reported intermediate results."""
    with_curves = [t for t in columns.trials if t.intermediates]
    shown = with_curves[-max_curves:] if max_curves > 0 else []
    longest = max((len(t.intermediates) for t in shown), default=0)
    steps = np.full((len(shown), longest), np.nan)
    values = np.full((len(shown), longest), np.nan)
    for row, trial in enumerate(shown):
        pairs = np.asarray(trial.intermediates, dtype=float)
        steps[row, : len(pairs)] = pairs[:, 0]
        values[row, : len(pairs)] = pairs[:, 1]
    stopped = [t for t in shown if t.state == TrialState.EARLY_STOPPED]
    return CurvesChart(
        numbers=np.array([t.number for t in shown], dtype=np.int64),
        states=tuple(t.state for t in shown),
        steps=steps,
        values=values,
        stopped_steps=np.array([t.intermediates[-1][0] for t in stopped], dtype=float),
        stopped_values=np.array([t.intermediates[-1][1] for t in stopped], dtype=float),
        total=len(with_curves),
    )


class CachedEncoder:
    """``space.encode(trial.params)``, remembered per trial number for as long as the trial keeps
    the same params object (a ``Trial.replace`` keeps it), so a refresh only encodes new trials."""

    def __init__(self, space: SearchSpace):
        self.space = space
        self._cache: dict[int, tuple[Mapping[str, Any], np.ndarray]] = {}

    def __call__(self, trial: Trial) -> np.ndarray:
        hit = self._cache.get(trial.number)
        if hit is not None and hit[0] is trial.params:
            return hit[1]
        point = self.space.encode(trial.params)
        self._cache[trial.number] = (trial.params, point)
        return point


def parallel_chart(columns: Columns, direction: Direction | str, space: SearchSpace, max_lines: int = 500,
                   encoder: CachedEncoder | None = None) -> ParallelChart:
    encode = encoder or CachedEncoder(space)
    labels = tuple(dim.key for dim in space.dimensions) + ("result",)
    ranked = _ranked(columns, direction)
    ranked = ranked[np.isfinite(columns.values[ranked])]
    shown = ranked[:max_lines][::-1]  # the best drawn last, on top
    values = columns.values[shown]
    coordinates = np.empty((len(shown), len(labels)))
    for row, index in enumerate(shown):
        coordinates[row, :-1] = encode(columns.trials[index])
    value_range = None
    if len(values):
        low, high = float(values.min()), float(values.max())
        value_range = (low, high)
        coordinates[:, -1] = (values - low) / (high - low) if high > low else 0.5
    return ParallelChart(labels, coordinates, values, columns.numbers[shown], value_range, len(ranked))


def _row(trial: Trial) -> TrialRow:
    return TrialRow(trial.number, trial.state, trial.value, trial.params, trial.duration, trial.gpu,
                    error_summary(trial))


def top_trials(columns: Columns, direction: Direction | str, n: int = 10) -> tuple[TrialRow, ...]:
    return tuple(_row(columns.trials[i]) for i in _ranked(columns, direction)[:n])


def latest_failures(columns: Columns, n: int = 5) -> tuple[TrialRow, ...]:
    """The last ``n`` failed trials, newest first."""
    failed = np.flatnonzero(columns.mask(TrialState.FAILED))[::-1][:n]
    return tuple(_row(columns.trials[i]) for i in failed)


def build(
    trials: Sequence[Trial],
    *,
    direction: Direction | str,
    space: SearchSpace,
    total: int | None = None,
    now: float | None = None,
    top_n: int = 10,
    failures_n: int = 100,
    max_curves: int = 100,
    max_lines: int = 500,
    encoder: CachedEncoder | None = None,
) -> DashboardData:
    """Everything the dashboard draws, from one snapshot of the trials. Pass the same ``encoder``
    to every call to keep a refresh from re-encoding the trials drawn before."""
    columns = columns_of(trials)
    return DashboardData(
        progress=progress(columns, direction, total, now),
        results=results_chart(columns, direction),
        curves=curves_chart(columns, max_curves),
        parallel=parallel_chart(columns, direction, space, max_lines, encoder),
        top=top_trials(columns, direction, top_n),
        failures=latest_failures(columns, failures_n),
    )


# --- text ----------------------------------------------------------------------------------------
def format_value(value: Any) -> str:
    """A parameter or result as a short text: floats to 6 significant digits, a nested choice as
    ``Conv(kernel=3)``. Not escaped: callers writing HTML escape it."""
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value))
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        return f"{float(value):.6g}"
    if isinstance(value, Mapping):
        inner = ", ".join(f"{k}={format_value(v)}" for k, v in value.items() if k != "_name")
        return f"{value['_name']}({inner})" if "_name" in value else "{" + inner + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(format_value(v) for v in value) + "]"
    return str(value)


def format_duration(seconds: float | None) -> str:
    if seconds is None or not math.isfinite(seconds):
        return "–"
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, secs = divmod(int(round(seconds)), 60)
    if minutes < 60:
        return f"{minutes} min {secs:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


def error_summary(trial: Trial, limit: int = 200) -> str | None:
    """One line saying why a trial did not succeed: its reason, else its traceback's last line."""
    text = trial.reason
    if not text and trial.error:
        lines = [line for line in trial.error.splitlines() if line.strip()]
        text = lines[-1].strip() if lines else None
    if not text:
        return None
    return text if len(text) <= limit else text[: limit - 1] + "…"
