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
from ..space.bounded import RandInt
from ..space.choices import Choice
from ..space.dimensions import encode_many
from ..space.distribution import Distribution
from ..trial import Trial, TrialState
from ..vocabulary import Direction
from .lineage import lineage_label

#: The states a finished trial can end in, in the order the charts list them.
FINISHED_STATES = (
    TrialState.SUCCEEDED,
    TrialState.EARLY_STOPPED,
    TrialState.FAILED,
    TrialState.CANCELED,
    TrialState.TIMEOUT,
)

_STATE_CODES = {state: code for code, state in enumerate(TrialState)}

#: The most curves of intermediate results a chart draws (the latest trials that report).
MAX_CURVES = 100
#: The most lines of the parallel coordinates (the best trials).
MAX_LINES = 500


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
class Axis:
    """An axis in the parameter's own units over the [0, 1] coordinate a chart draws on.

    Parameters sit at their unit-cube coordinate (``SearchSpace.encode``), so ``scale`` says what the
    ticks look like: "linear" (evenly spaced values), "log" (a log type: powers of ten evenly
    spaced), "category" (a choice: one tick per option, labelled by it), "quantile" (a normal
    type: values at their distribution's quantile). ``ticks`` are the positions on [0, 1] of the
    values ``tick_labels`` name.
    """

    label: str
    scale: str
    ticks: tuple[float, ...]
    tick_labels: tuple[str, ...]


@dataclasses.dataclass(frozen=True)
class ParallelChart:
    """Parallel coordinates: one line per succeeded trial (the best ``max_lines``, the best drawn
    last), over one ``Axis`` per search-space dimension plus the result axis.

    ``coordinates[i, j]`` is trial i's position on axis j: its unit-cube coordinate (NaN where a
    nested dimension is inactive); the result is placed linearly over ``value_range`` (``nice_range``), and each
    axis's ticks label the positions in that axis's own units.
    """

    axes: tuple[Axis, ...]
    coordinates: np.ndarray
    values: np.ndarray
    numbers: np.ndarray
    value_range: tuple[float, float] | None
    total: int

    @property
    def labels(self) -> tuple[str, ...]:
        return tuple(axis.label for axis in self.axes)


@dataclasses.dataclass(frozen=True)
class SliceChart:
    """The result against each parameter, for the succeeded trials with a finite result (about
    ``max_points`` of them at most: ``sample_by_number``): ``coordinates[i, j]`` is trial i's position on ``axes[j]`` (as in
    ``ParallelChart``; NaN where inactive), ``values`` the results. ``total``: the trials that
    qualified."""

    axes: tuple[Axis, ...]
    coordinates: np.ndarray
    values: np.ndarray
    numbers: np.ndarray
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
    lineage: str = ""  # budget, bracket/rung or generation, parent: views/lineage.py


@dataclasses.dataclass(frozen=True)
class DashboardData:
    columns: "Columns"  # the snapshot the records come from, for views computed on their own schedule
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


def ranked(columns: Columns, direction: Direction | str) -> np.ndarray:
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
    order = ranked(columns, direction)
    best = columns.trials[order[0]] if len(order) else None
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


def curves_chart(columns: Columns, max_curves: int = MAX_CURVES) -> CurvesChart:
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

    def rows(self, trials: Sequence[Trial]) -> np.ndarray:
        """The points of ``trials``, one row each; those not cached are encoded together
        (``encode_many``: a few microseconds a trial instead of tens)."""
        out = np.empty((len(trials), len(self.space.dimensions)))
        missing = []
        for row, trial in enumerate(trials):
            hit = self._cache.get(trial.number)
            if hit is not None and hit[0] is trial.params:
                out[row] = hit[1]
            else:
                missing.append(row)
        if missing:
            points = encode_many(self.space.dimensions, [trials[row].params for row in missing])
            for row, point in zip(missing, points):
                out[row] = point
                self._cache[trials[row].number] = (trials[row].params, point)
        return out


def parallel_chart(columns: Columns, direction: Direction | str, space: SearchSpace, max_lines: int = MAX_LINES,
                   encoder: CachedEncoder | None = None) -> ParallelChart:
    encode = encoder or CachedEncoder(space)
    order = ranked(columns, direction)
    order = order[np.isfinite(columns.values[order])]
    shown = order[:max_lines][::-1]  # the best drawn last, on top
    values = columns.values[shown]
    coordinates = np.empty((len(shown), len(space.dimensions) + 1))
    coordinates[:, :-1] = encode.rows([columns.trials[index] for index in shown])
    value_range = None
    if len(values):
        low, high = value_range = nice_range(float(values.min()), float(values.max()))
        coordinates[:, -1] = (values - low) / (high - low) if high > low else 0.5
    axes = (*space_axes(space), result_axis(value_range))
    return ParallelChart(axes, coordinates, values, columns.numbers[shown], value_range, len(order))


def slice_chart(columns: Columns, space: SearchSpace, max_points: int = 1000,
                encoder: CachedEncoder | None = None) -> SliceChart:
    encode = encoder or CachedEncoder(space)
    kept = np.flatnonzero(columns.mask(TrialState.SUCCEEDED) & np.isfinite(columns.values))
    shown = sample_by_number(columns, kept, max_points)
    coordinates = encode.rows([columns.trials[index] for index in shown])
    return SliceChart(space_axes(space), coordinates, columns.values[shown], columns.numbers[shown], len(kept))


def sample_by_number(columns: Columns, indices: np.ndarray, limit: int) -> np.ndarray:
    """``indices`` (of ``columns``), or beyond ``limit`` those of trials whose number is a multiple
    of the smallest power of two that leaves at most about ``limit``. As a study grows, the sample
    only loses trials: a view that encodes its trials encodes each once."""
    if len(indices) <= limit:
        return indices
    stride = 2 ** math.ceil(math.log2(len(indices) / limit))
    return indices[columns.numbers[indices] % stride == 0]


# --- axes in the parameters' own units -------------------------------------------------------------
#: NNI's unbounded types, whose axes show the values between the quantiles ``_SHOWN_QUANTILES``.
_UNBOUNDED = frozenset({"normal", "qnormal", "lognormal", "qlognormal"})
_SHOWN_QUANTILES = (0.02, 0.98)


def space_axes(space: SearchSpace) -> tuple[Axis, ...]:
    """One axis per dimension of ``space``, in its order."""
    return tuple(dimension_axis(dim.key, dim.distribution) for dim in space.dimensions)


def dimension_axis(label: str, dist: Distribution) -> Axis:
    if isinstance(dist, Choice):
        count = len(dist.options)
        options = [dist.option_label(i) for i in range(count)]
        return Axis(label, "category", tuple(dist.to_unit(o) for o in options), tuple(map(format_value, options)))
    unbounded = dist.type_name in _UNBOUNDED
    low, high = (float(dist.from_unit(u)) for u in (_SHOWN_QUANTILES if unbounded else (0.0, 1.0)))
    integral = isinstance(dist, RandInt)
    values = log_ticks(low, high) if dist.log else linear_ticks(low, high, integral=integral)
    scale = "quantile" if unbounded else "log" if dist.log else "linear"
    return Axis(label, scale, tuple(float(dist.to_unit(int(v) if integral else v)) for v in values),
                tuple(format_value(int(v) if integral else v) for v in values))


def result_axis(value_range: tuple[float, float] | None) -> Axis:
    """The result axis of the parallel coordinates: linear over ``value_range``."""
    if value_range is None:
        return Axis("result", "linear", (), ())
    low, high = value_range
    if high <= low:
        return Axis("result", "linear", (0.5,), (format_value(low),))
    values = linear_ticks(low, high)
    return Axis("result", "linear", tuple((v - low) / (high - low) for v in values),
                tuple(format_value(v) for v in values))


def linear_ticks(low: float, high: float, count: int = 5, integral: bool = False) -> list[float]:
    """About ``count`` round values (1, 2 or 5 times a power of ten apart) in [low, high]; a whole
    step for ``integral`` axes."""
    if not high > low:
        return [low]
    step = _tick_step(low, high, count)
    step = max(step, 1.0) if integral else step
    first, last = math.ceil(low / step - 1e-9), math.floor(high / step + 1e-9)
    return [float(np.round(k * step, 12)) for k in range(first, last + 1)]


def nice_range(low: float, high: float, count: int = 5) -> tuple[float, float]:
    """[low, high] widened to whole steps of ``linear_ticks``: a live chart's range (and the
    messages that redraw its axis) then changes only when the data leave it."""
    if not high > low:
        return low, high
    step = _tick_step(low, high, count)
    return float(np.round(math.floor(low / step + 1e-9) * step, 12)), float(np.round(math.ceil(high / step - 1e-9) * step, 12))


def _tick_step(low: float, high: float, count: int) -> float:
    """1, 2 or 5 times a power of ten, about (high - low) / count."""
    raw = (high - low) / count
    power = 10.0 ** math.floor(math.log10(raw))
    return next(m * power for m in (1, 2, 5, 10) if m * power >= raw)


def log_ticks(low: float, high: float) -> list[float]:
    """The powers of ten in [low, high]; 1, 2 and 5 times them where that gives fewer than two."""
    first, last = math.ceil(math.log10(low) - 1e-9), math.floor(math.log10(high) + 1e-9)
    decades = [10.0 ** k for k in range(first, last + 1)]
    if len(decades) >= 2:
        return decades
    steps = [m * 10.0 ** k for k in range(first - 1, last + 1) for m in (1, 2, 5)]
    within = [v for v in steps if low * (1 - 1e-9) <= v <= high * (1 + 1e-9)]
    return within if len(within) >= 2 else linear_ticks(low, high)


def _row(trial: Trial) -> TrialRow:
    return TrialRow(trial.number, trial.state, trial.value, trial.params, trial.duration, trial.gpu,
                    error_summary(trial), lineage_label(trial.directives))


def top_trials(columns: Columns, direction: Direction | str, n: int = 10) -> tuple[TrialRow, ...]:
    return tuple(_row(columns.trials[i]) for i in ranked(columns, direction)[:n])


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
    max_curves: int = MAX_CURVES,
    max_lines: int = MAX_LINES,
    encoder: CachedEncoder | None = None,
) -> DashboardData:
    """Everything the dashboard draws, from one snapshot of the trials. Pass the same ``encoder``
    to every call to keep a refresh from re-encoding the trials drawn before."""
    columns = columns_of(trials)
    return DashboardData(
        columns=columns,
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
