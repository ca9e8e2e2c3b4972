"""What a saved notebook shows of a finished study when it is opened without a kernel.

``study_mimebundle`` returns the output's MIME bundle:

* ``application/vnd.autotune.study+json``: the study document, the export schema
  (``autotune_nb.export.study_to_document``), which the JupyterLab extension renders;
* ``text/html``: a static fallback, a table of the best trials and an inline SVG chart of the
  result against trial number with the best-so-far line. No JavaScript, and every string that
  comes from the user (names, parameter values, errors) goes through ``html.escape``;
* ``text/plain``: one line, for consoles.

A notebook file keeps its outputs, so the bundle is capped; the whole study stays in the store.
The document holds each trial slimmed to what the views draw (``_slim``: a 5,000-step curve per
trial would otherwise weigh more than the rest), and a study of more than ``SHOWN_TRIALS`` trials
puts only that many in the document and the chart (``shown_trials``), which both say so. The
document carries ``trials_total``, ``trials_shown`` and ``counts`` (per state, of the whole study),
and ``note`` when it shows only part of the study.

The header, counts, best and table builders are shared with the live dashboard
(``notebook/dashboard.py``), which shows the same pieces.
"""

from __future__ import annotations

import html
from typing import Any, Sequence

import numpy as np

from ..export import study_to_document
from ..config import StudyConfig
from ..space import SearchSpace
from ..trial import Trial, TrialState
from ..vocabulary import Direction, StudyState
from . import charts
from .importance import MIN_TRIALS, Importance, importance_of
from .charts import FINISHED_STATES, TrialRow, format_duration, format_value, state_label
from .palette import BEST_LINE, RESULT, STATE_COLORS

MIME_TYPE = "application/vnd.autotune.study+json"

#: The most trials a saved notebook holds of one study: with the parallel-coordinate and slice SVGs the
#: bundle of a 1,000-trial study stays under 100 kB (tests/integration/test_fault_matrix_execution.py).
SHOWN_TRIALS = 120
#: How many of them are the latest trials, and how many the best (the table's rows).
LATEST_TRIALS = 40
TOP_N = 10

_SVG_WIDTH, _SVG_HEIGHT = 560, 220
_MARGIN_LEFT, _MARGIN_RIGHT, _MARGIN_TOP, _MARGIN_BOTTOM = 64, 16, 12, 30


def _esc(value: Any) -> str:
    return html.escape(str(value), quote=True)


def study_mimebundle(config: StudyConfig, trials: Sequence[Trial], state: StudyState | None) -> dict[str, Any]:
    """The output bundle of a study in ``state`` (None: it never ran)."""
    columns = charts.columns_of(trials)
    summary = charts.progress(columns, config.direction, None, None)
    shown = shown_trials(columns, config.direction)
    best = summary.best
    shown_best = "none yet" if best is None else f"{format_value(best.value)} (trial {best.number})"
    return {
        MIME_TYPE: _document(config, summary, shown, state),
        "text/html": _html(config, columns, summary, shown, state, TOP_N),
        "text/plain": f"<Study {config.name!r} {state}: {len(trials)} trials, best {shown_best}>",
    }


def study_html(config: StudyConfig, trials: Sequence[Trial], state: StudyState | None, top_n: int = TOP_N) -> str:
    columns = charts.columns_of(trials)
    summary = charts.progress(columns, config.direction, None, None)
    return _html(config, columns, summary, shown_trials(columns, config.direction), state, top_n)


def shown_trials(columns: charts.Columns, direction: Direction | str, limit: int = SHOWN_TRIALS) -> tuple[Trial, ...]:
    """The trials a saved notebook shows, by number: all of them up to ``limit``. Beyond, ``limit``
    of them, taken in this order: the best ``TOP_N`` (the table), the trials that improved the best
    so far (the chart's best line stays exact), the latest ``LATEST_TRIALS``, an even sample."""
    count = len(columns.trials)
    if count <= limit:
        return columns.trials
    wanted = [row.number for row in charts.top_trials(columns, direction, TOP_N)]
    wanted += charts.results_chart(columns, direction).best_numbers.astype(int).tolist()
    wanted += columns.numbers[-LATEST_TRIALS:].tolist()
    wanted += columns.numbers[np.linspace(0, count - 1, limit).astype(int)].tolist()
    chosen = np.sort(np.fromiter(dict.fromkeys(wanted), dtype=np.int64)[:limit])
    return tuple(columns.trials[i] for i in np.searchsorted(columns.numbers, chosen))


def shown_note(config: StudyConfig, shown: int, total: int) -> str | None:
    """What the output says when it shows only part of the study; None when it shows all of it."""
    if shown == total:
        return None
    return (f"Showing {shown} of {total} trials: the best, the latest and a sample. The whole study is in "
            f"the store: %autotune export {config.name} PATH, or study.to_json(PATH).")


def _slim(trial: Trial) -> Trial:
    """A trial as the notebook's document keeps it: its last intermediate result (the chart's
    point), no extra metrics, and the last line of its traceback."""
    lines = (trial.error or "").strip().splitlines()
    return trial.replace(intermediates=trial.intermediates[-1:], metrics={}, error=lines[-1] if lines else None)


def _document(config: StudyConfig, summary: charts.Progress, shown: Sequence[Trial],
              state: StudyState | None) -> dict[str, Any]:
    total = sum(summary.counts.values())
    document = study_to_document(config, [_slim(t) for t in shown], state=state)
    document.update(trials_total=total, trials_shown=len(shown), counts=dict(summary.counts))
    note = shown_note(config, len(shown), total)
    if note:
        document["note"] = note
    return document


def _html(config: StudyConfig, columns: charts.Columns, summary: charts.Progress, shown: Sequence[Trial],
          state: StudyState | None, top_n: int) -> str:
    shown_columns = charts.columns_of(shown)
    results = charts.results_chart(shown_columns, config.direction)
    space = SearchSpace(config.space)
    scores = importance_of(columns, config.direction, space)
    rows = charts.top_trials(columns, config.direction, top_n)
    failures = charts.latest_failures(columns, 5)
    note = shown_note(config, len(shown), len(columns.trials))
    parts = [
        '<div class="autotune-static">',
        header_html(config, state),
        f'<div class="autotune-counts">{counts_html(summary)}</div>',
        f'<p class="autotune-shown-note">{_esc(note)}</p>' if note else "",
        best_html(summary.best, config.direction),
        results_svg(results, title=f"{config.name}: result per trial"),
        legend_html(),
        *(_analysis_html(config, shown_columns, space, scores) if rows else ()),
        f"<h4>Top {len(rows)} trials</h4>" if rows else "<p>No trial succeeded.</p>",
        trials_table_html(rows, list(config.space)) if rows else "",
        "<h4>Latest failures</h4>" + failures_table_html(failures) if failures else "",
        "</div>",
    ]
    return "\n".join(part for part in parts if part)


def _analysis_html(config: StudyConfig, shown: charts.Columns, space: SearchSpace,
                   scores: Importance | None) -> tuple[str, ...]:
    """Which setting matters: importance (of the whole study), parallel coordinates and slices (of
    the trials shown)."""
    parallel = charts.parallel_chart(shown, config.direction, space)
    slices = charts.slice_chart(shown, space)
    return (
        importance_html(scores),
        f"<h4>Hyperparameters and result (best {len(parallel.values)} trials shown)</h4>",
        parallel_svg(parallel, title=f"{config.name}: parameters and result of each trial"),
        f"<h4>Result per parameter value ({len(slices.values)} trials shown)</h4>",
        slices_svg(slices, scores.names if scores else None),
    )


# --- pieces shared with the dashboard --------------------------------------------------------------
def header_html(config: StudyConfig, state: StudyState | None) -> str:
    assessor = config.assessor or "none"
    return (
        f'<div class="autotune-header"><b class="autotune-name">{_esc(config.name)}</b>'
        f" · tuner {_esc(config.tuner)} · assessor {_esc(assessor)} · {_esc(config.direction)}"
        f' · <span class="autotune-state">{_esc(state)}</span></div>'
    )


def counts_html(summary: charts.Progress) -> str:
    shown = [TrialState.RUNNING, *FINISHED_STATES]
    parts = [
        f'<span class="autotune-count-{state_label(s)}">{state_label(s)} {summary.counts[s.value]}</span>'
        for s in shown
        if s != TrialState.TIMEOUT or summary.counts[s.value]
    ]
    return " · ".join(parts)


def best_html(best: Trial | None, direction: Direction | str) -> str:
    if best is None:
        return '<div class="autotune-best">Best so far: none yet</div>'
    params = "".join(
        f"<tr><th>{_esc(name)}</th><td>{_esc(format_value(value))}</td></tr>" for name, value in best.params.items()
    )
    return (
        f'<div class="autotune-best">Best so far ({_esc(direction)}): '
        f'<b class="autotune-best-value">{_esc(format_value(best.value))}</b>'
        f" (trial {best.number})<table class=\"autotune-best-params\">{params}</table></div>"
    )


def trials_table_html(rows: Sequence[TrialRow], param_names: Sequence[str]) -> str:
    """The top trials: number, result, one column per top-level parameter, state, duration, GPU, and
    where the tuner gave directives, each trial's schedule and parent ("lineage": views/lineage.py)."""
    lineage = any(row.lineage for row in rows)
    names = ["#", "result", *param_names, "state", "duration", "GPU", *(["lineage"] if lineage else [])]
    head = "".join(f"<th>{_esc(name)}</th>" for name in names)
    body = []
    for row in rows:
        cells = [str(row.number), "" if row.value is None else format_value(row.value)]
        cells += [format_value(row.params[name]) if name in row.params else "" for name in param_names]
        cells += [state_label(row.state), format_duration(row.duration), row.gpu or ""]
        cells += [row.lineage] if lineage else []
        body.append("<tr>" + "".join(f"<td>{_esc(cell)}</td>" for cell in cells) + "</tr>")
    return f'<table class="autotune-table"><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table>'


def failures_table_html(rows: Sequence[TrialRow]) -> str:
    head = "".join(f"<th>{name}</th>" for name in ("#", "error", "duration", "GPU"))
    body = "".join(
        f"<tr><td>{row.number}</td><td>{_esc(row.error or '')}</td>"
        f"<td>{_esc(format_duration(row.duration))}</td><td>{_esc(row.gpu or '')}</td></tr>"
        for row in rows
    )
    return f'<table class="autotune-failures"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def legend_html(states: Sequence[TrialState] = FINISHED_STATES) -> str:
    """The charts' colours: one entry per state, and the best-so-far line."""
    items = [(state_label(s), STATE_COLORS[s]) for s in states] + [("best so far", BEST_LINE)]
    return '<div class="autotune-legend">' + " ".join(
        f'<span style="color:{color}">■</span> {_esc(label)}' for label, color in items
    ) + "</div>"


# --- the SVG chart -----------------------------------------------------------------------------------
def _domain(values: np.ndarray) -> tuple[float, float]:
    if not len(values):
        return 0.0, 1.0
    low, high = float(values.min()), float(values.max())
    if high == low:
        pad = abs(low) * 0.05 or 1.0
        return low - pad, high + pad
    pad = (high - low) * 0.05
    return low - pad, high + pad


def results_svg(chart: charts.ResultsChart, title: str) -> str:
    """Result against trial number: one dot per plotted trial, coloured by state, and the
    best-so-far line as steps. Each state's dots are one ``<path>`` (``M x,y h0`` with round caps)
    so a 10,000-trial study stays a small document."""
    xs = np.concatenate([p.numbers for p in chart.points]).astype(float)
    ys = np.concatenate([p.values for p in chart.points])
    (x0, x1), (y0, y1) = _domain(xs), _domain(ys)
    plot_w = _SVG_WIDTH - _MARGIN_LEFT - _MARGIN_RIGHT
    plot_h = _SVG_HEIGHT - _MARGIN_TOP - _MARGIN_BOTTOM

    def px(x: np.ndarray) -> np.ndarray:
        return _MARGIN_LEFT + (x - x0) / (x1 - x0) * plot_w

    def py(y: np.ndarray) -> np.ndarray:
        return _MARGIN_TOP + (y1 - y) / (y1 - y0) * plot_h

    parts = [
        f'<svg class="autotune-chart" xmlns="http://www.w3.org/2000/svg" width="{_SVG_WIDTH}" '
        f'height="{_SVG_HEIGHT}" viewBox="0 0 {_SVG_WIDTH} {_SVG_HEIGHT}" role="img" '
        f'aria-label="{_esc(title)}: trial number across, result up">',
        f"<title>{_esc(title)}</title>",
        f'<rect x="{_MARGIN_LEFT}" y="{_MARGIN_TOP}" width="{plot_w}" height="{plot_h}" '
        'fill="none" stroke="#cccccc"/>',
    ]
    for points in chart.points:
        if len(points.numbers):
            dots = "".join(f"M{x:.1f},{y:.1f}h0" for x, y in zip(px(points.numbers.astype(float)), py(points.values)))
            parts.append(
                f'<path class="autotune-dots-{state_label(points.state)}" d="{dots}" fill="none" '
                f'stroke="{STATE_COLORS[points.state]}" stroke-width="5" stroke-linecap="round"/>'
            )
    if len(chart.best_numbers):
        parts.append(
            f'<polyline class="autotune-best-line" points="{_step_points(px(chart.best_numbers), py(chart.best_values))}" '
            f'fill="none" stroke="{BEST_LINE}" stroke-width="1.5"/>'
        )
    if len(xs):
        parts += _axis_labels(xs, ys, px, py)
    parts.append("</svg>")
    return "".join(parts)


def _step_points(xs: np.ndarray, ys: np.ndarray) -> str:
    """A step-after line: the best value holds until the next trial improves it."""
    corners = [(xs[0], ys[0])]
    for x, y, previous in zip(xs[1:], ys[1:], ys[:-1]):
        corners += [(x, previous), (x, y)]
    return " ".join(f"{x:.1f},{y:.1f}" for x, y in corners)


def _axis_labels(xs: np.ndarray, ys: np.ndarray, px, py) -> list[str]:
    """The lowest and highest result and trial number, written where they sit on the axes."""
    bottom = _SVG_HEIGHT - _MARGIN_BOTTOM
    style = 'font-size="11" fill="#555555" font-family="sans-serif"'
    middle = (_MARGIN_TOP + bottom) / 2
    labels = [f'<text x="{(_MARGIN_LEFT + _SVG_WIDTH) / 2:.0f}" y="{bottom + 24}" text-anchor="middle" {style}>trial</text>',
              f'<text x="12" y="{middle:.0f}" text-anchor="middle" transform="rotate(-90 12 {middle:.0f})" '
              f'{style}>result</text>']
    for y in {float(ys.min()), float(ys.max())}:
        labels.append(f'<text x="{_MARGIN_LEFT - 4}" y="{py(y) + 4:.1f}" text-anchor="end" {style}>'
                      f"{_esc(format_value(y))}</text>")
    for x in {float(xs.min()), float(xs.max())}:
        labels.append(f'<text x="{px(x):.1f}" y="{bottom + 12}" text-anchor="middle" {style}>{int(x)}</text>')
    return labels


# --- the views that answer "which setting matters" -------------------------------------------------
_TEXT_STYLE = 'font-size="11" fill="#555555" font-family="sans-serif"'


def importance_html(scores: Importance | None) -> str:
    """Parameter importance as a list of bars, most important first (shared with the dashboard)."""
    if scores is None:
        return (f'<div class="autotune-importance-empty"><b>Parameter importance</b>: shown once {MIN_TRIALS} '
                "trials have succeeded.</div>")
    rows = "".join(
        f'<tr><th scope="row">{_esc(name)}</th><td><span class="autotune-importance-bar" style="display:inline-block;'
        f'height:10px;width:{round(160 * score)}px;background:{RESULT}"></span> {score:.2f}</td></tr>'
        for name, score in zip(scores.names, scores.scores)
    )
    return (f'<div class="autotune-importance-list"><b>Parameter importance</b> (PED-ANOVA over {scores.trials} '
            f'succeeded trials)<table class="autotune-importance-table">{rows}</table></div>')


def _axis_svg(axis: charts.Axis, place, vertical: bool) -> list[str]:
    """One axis's tick labels: ``place(position)`` -> the pixel along the axis."""
    parts = []
    for position, label in zip(axis.ticks, axis.tick_labels):
        at = place(position)
        if vertical:
            parts.append(f'<text x="{at[0] - 4:.1f}" y="{at[1] + 4:.1f}" text-anchor="end" {_TEXT_STYLE}>'
                         f"{_esc(label)}</text>")
        else:
            parts.append(f'<text x="{at[0]:.1f}" y="{at[1] + 12:.1f}" text-anchor="middle" {_TEXT_STYLE}>'
                         f"{_esc(label)}</text>")
    return parts


#: Opacity steps of the static parallel coordinates: the worst trials faintest, the best darkest.
PARALLEL_BANDS = 6


def parallel_svg(chart: charts.ParallelChart, title: str, width: int = 720, height: int = 260) -> str:
    """Parallel coordinates: a vertical axis per parameter and the result, each with ticks in its
    own units (log axes, category labels); one polyline per trial, darker for better results."""
    left, right, top, bottom = 60, 20, 14, 34
    count = len(chart.axes)
    gap = (width - left - right) / max(count - 1, 1)

    def place(axis_index: int, position: float) -> tuple[float, float]:
        return left + axis_index * gap, top + (1 - position) * (height - top - bottom)

    parts = [f'<svg class="autotune-parallel" xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" role="img">', f"<title>{_esc(title)}</title>"]
    # Rows run worst to best; they are drawn in PARALLEL_BANDS paths of rising opacity (one element per
    # band, whole-pixel points: a saved notebook keeps this SVG, so its size counts).
    for band, rows in enumerate(np.array_split(chart.coordinates, min(PARALLEL_BANDS, len(chart.coordinates)))):
        lines = ("M" + "L".join(f"{x:.0f},{y:.0f}" for j, p in enumerate(row) if np.isfinite(p)
                                for x, y in [place(j, p)]) for row in rows)
        opacity = 0.15 + 0.75 * band / max(PARALLEL_BANDS - 1, 1)
        parts.append(f'<path d="{"".join(lines)}" fill="none" stroke="{RESULT}" stroke-opacity="{opacity:.2f}"/>')
    for j, axis in enumerate(chart.axes):
        (x, y_top), (_, y_bottom) = place(j, 1.0), place(j, 0.0)
        parts.append(f'<line x1="{x:.1f}" y1="{y_top:.1f}" x2="{x:.1f}" y2="{y_bottom:.1f}" stroke="#888888"/>')
        parts += _axis_svg(axis, lambda p, j=j: place(j, p), vertical=True)
        parts.append(f'<text class="autotune-axis-name" x="{x:.1f}" y="{height - 6}" text-anchor="middle" '
                     f'{_TEXT_STYLE}>{_esc(axis.label)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def slices_svg(chart: charts.SliceChart, order: Sequence[str] | None = None, size: tuple[int, int] = (240, 170)) -> str:
    """One small scatter per parameter (in ``order``, default the space's): result against the
    parameter, its axis in the parameter's units."""
    names = [axis.label for axis in chart.axes]
    order = list(order or names)
    width, height = size
    left, right, top, bottom = 52, 10, 18, 30
    figures = []
    (y0, y1) = _domain(chart.values)
    for name in order:
        j = names.index(name)
        axis = chart.axes[j]
        x = chart.coordinates[:, j]
        active = np.isfinite(x)

        def place(p: float, value: float) -> tuple[float, float]:
            return (left + p * (width - left - right), top + (y1 - value) / (y1 - y0) * (height - top - bottom))

        dots = "".join(f"M{px:.0f},{py:.0f}h0" for px, py in (place(p, v) for p, v in zip(x[active], chart.values[active])))
        parts = [f'<svg class="autotune-slice" xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
                 f'viewBox="0 0 {width} {height}" role="img"><title>{_esc(f"result against {name}")}</title>',
                 f'<text x="{width / 2:.0f}" y="12" text-anchor="middle" {_TEXT_STYLE}>{_esc(name)}</text>',
                 f'<rect x="{left}" y="{top}" width="{width - left - right}" height="{height - top - bottom}" '
                 'fill="none" stroke="#cccccc"/>']
        if dots:
            parts.append(f'<path d="{dots}" fill="none" stroke="{RESULT}" stroke-opacity="0.6" stroke-width="4" '
                         'stroke-linecap="round"/>')
        parts += _axis_svg(axis, lambda p: place(p, y0), vertical=False)
        if len(chart.values):
            parts += [f'<text x="{left - 4}" y="{place(0, v)[1] + 4:.1f}" text-anchor="end" {_TEXT_STYLE}>'
                      f"{v:.3g}</text>" for v in {float(chart.values.min()), float(chart.values.max())}]
        figures.append("".join(parts) + "</svg>")
    return '<div class="autotune-slices">' + "".join(figures) + "</div>"
