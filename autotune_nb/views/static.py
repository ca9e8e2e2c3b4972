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
from ..trial import Trial, TrialState
from ..vocabulary import Direction, StudyState
from . import charts
from .charts import FINISHED_STATES, STATE_COLORS, TrialRow, format_duration, format_value, state_label

MIME_TYPE = "application/vnd.autotune.study+json"

#: The most trials a saved notebook holds of one study (a bundle then stays well under 100 kB).
SHOWN_TRIALS = 150
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
    results = charts.results_chart(charts.columns_of(shown), config.direction)
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
        f"<h4>Top {len(rows)} trials</h4>" if rows else "<p>No trial succeeded.</p>",
        trials_table_html(rows, list(config.space)) if rows else "",
        "<h4>Latest failures</h4>" + failures_table_html(failures) if failures else "",
        "</div>",
    ]
    return "\n".join(part for part in parts if part)


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
    """The top trials: number, result, one column per top-level parameter, state, duration, GPU."""
    head = "".join(f"<th>{_esc(name)}</th>" for name in ["#", "result", *param_names, "state", "duration", "GPU"])
    body = []
    for row in rows:
        cells = [str(row.number), "" if row.value is None else format_value(row.value)]
        cells += [format_value(row.params[name]) if name in row.params else "" for name in param_names]
        cells += [state_label(row.state), format_duration(row.duration), row.gpu or ""]
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
    items = [(state_label(s), STATE_COLORS[s]) for s in states] + [("best so far", "#222222")]
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
        f'height="{_SVG_HEIGHT}" viewBox="0 0 {_SVG_WIDTH} {_SVG_HEIGHT}" role="img">',
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
            'fill="none" stroke="#222222" stroke-width="1.5"/>'
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
    labels = [f'<text x="{(_MARGIN_LEFT + _SVG_WIDTH) / 2:.0f}" y="{bottom + 24}" text-anchor="middle" {style}>trial</text>']
    for y in {float(ys.min()), float(ys.max())}:
        labels.append(f'<text x="{_MARGIN_LEFT - 4}" y="{py(y) + 4:.1f}" text-anchor="end" {style}>'
                      f"{_esc(format_value(y))}</text>")
    for x in {float(xs.min()), float(xs.max())}:
        labels.append(f'<text x="{px(x):.1f}" y="{bottom + 12}" text-anchor="middle" {style}>{int(x)}</text>')
    return labels
