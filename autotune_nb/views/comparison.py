"""Several studies side by side: their best-so-far curves on one chart and a table of their bests.

What NNI users do by hand to compare tuners (the same problem run with TPE, Random, Evolution ...).
``Comparison`` is the record and its own static view (HTML with an inline SVG, no JavaScript), so
it shows in a notebook (``at.compare``, ``%autotune compare A B C``) and reads from Python
(``rows``, ``curves``). Best is ``Direction``'s rule; the studies must share their direction.
"""

from __future__ import annotations

import dataclasses
import html
from typing import Any, Sequence

import numpy as np

from ..config import StudyConfig
from ..errors import ConfigurationError
from ..trial import Trial
from ..vocabulary import Direction
from . import charts
from .charts import format_value
from .palette import series_color
_WIDTH, _HEIGHT = 560, 240
_LEFT, _RIGHT, _TOP, _BOTTOM = 64, 16, 12, 34
_TEXT_STYLE = 'font-size="11" fill="#555555" font-family="sans-serif"'


@dataclasses.dataclass(frozen=True)
class ComparedStudy:
    """One study's line of the table and its best-so-far curve (the step corners, as
    ``charts.ResultsChart.best_numbers/best_values``)."""

    name: str
    tuner: str
    trials: int
    succeeded: int
    best_value: float | None
    best_trial: int | None
    curve_numbers: np.ndarray
    curve_values: np.ndarray


@dataclasses.dataclass(frozen=True)
class Comparison:
    """The studies, best first (those without a succeeded trial last), and their shared direction."""

    direction: Direction
    rows: tuple[ComparedStudy, ...]

    def _repr_mimebundle_(self, **_kwargs: Any) -> dict[str, str]:
        return {"text/html": comparison_html(self), "text/plain": str(self)}

    def __str__(self) -> str:
        lines = [f"{'study':24} {'tuner':12} {'trials':>6} {'best':>12}  best trial   ({self.direction})"]
        for row in self.rows:
            best = "-" if row.best_value is None else format_value(row.best_value)
            lines.append(f"{row.name:24} {row.tuner:12} {row.trials:>6} {best:>12}  "
                         f"{'-' if row.best_trial is None else row.best_trial}")
        return "\n".join(lines)


def compare_trials(studies: Sequence[tuple[StudyConfig, Sequence[Trial]]]) -> Comparison:
    """The comparison of ``(config, trials)`` pairs; raises ConfigurationError when their
    directions differ (a best of one would be the worst of another) or none is given."""
    if not studies:
        raise ConfigurationError("compare needs at least one study")
    directions = {config.name: Direction(config.direction) for config, _ in studies}
    if len(set(directions.values())) > 1:
        listed = ", ".join(f"{name!r} {direction}" for name, direction in directions.items())
        raise ConfigurationError(f"compare needs studies of one direction, got {listed}")
    direction = next(iter(directions.values()))
    rows = [_row(config, trials, direction) for config, trials in studies]
    rows.sort(key=lambda r: (r.best_value is None, 0.0 if r.best_value is None else -direction.sign * r.best_value))
    return Comparison(direction, tuple(rows))


def _row(config: StudyConfig, trials: Sequence[Trial], direction: Direction) -> ComparedStudy:
    columns = charts.columns_of(trials)
    order = charts.ranked(columns, direction)
    best = columns.trials[order[0]] if len(order) else None
    curve = charts.results_chart(columns, direction)
    return ComparedStudy(config.name, config.tuner, len(trials), len(order), None if best is None else best.value,
                         None if best is None else best.number, curve.best_numbers, curve.best_values)


def comparison_html(comparison: Comparison) -> str:
    esc = html.escape
    head = "".join(f"<th>{name}</th>" for name in ("study", "tuner", "trials", "succeeded", "best", "best trial"))
    body = "".join(
        f'<tr><td><span style="color:{series_color(i)}">■</span> {esc(row.name)}</td>'
        f"<td>{esc(row.tuner)}</td><td>{row.trials}</td><td>{row.succeeded}</td>"
        f"<td>{'–' if row.best_value is None else esc(format_value(row.best_value))}</td>"
        f"<td>{'–' if row.best_trial is None else row.best_trial}</td></tr>"
        for i, row in enumerate(comparison.rows)
    )
    return (f'<div class="autotune-compare">{comparison_svg(comparison)}<table class="autotune-compare-table">'
            f"<caption>Best per study ({esc(str(comparison.direction))}), best first</caption>"
            f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>")


def comparison_svg(comparison: Comparison) -> str:
    """The best-so-far curves, one step line per study, each extended to its study's last trial."""
    curves = [row for row in comparison.rows if len(row.curve_numbers)]
    names = ", ".join(row.name for row in comparison.rows)
    parts = [f'<svg class="autotune-compare-chart" xmlns="http://www.w3.org/2000/svg" width="{_WIDTH}" '
             f'height="{_HEIGHT}" viewBox="0 0 {_WIDTH} {_HEIGHT}" role="img">',
             f"<title>{html.escape(f'Best result so far per trial: {names}')}</title>",
             f'<rect x="{_LEFT}" y="{_TOP}" width="{_WIDTH - _LEFT - _RIGHT}" height="{_HEIGHT - _TOP - _BOTTOM}" '
             'fill="none" stroke="#cccccc"/>']
    if curves:
        xs = np.concatenate([[0.0], *[row.curve_numbers for row in curves]])
        ys = np.concatenate([row.curve_values for row in curves])
        x0, x1 = 0.0, float(xs.max()) or 1.0
        y0, y1 = float(ys.min()), float(ys.max())
        if y1 == y0:
            y0, y1 = y0 - (abs(y0) * 0.05 or 1.0), y1 + (abs(y1) * 0.05 or 1.0)

        def place(x: float, y: float) -> str:
            px = _LEFT + (x - x0) / (x1 - x0) * (_WIDTH - _LEFT - _RIGHT)
            py = _TOP + (y1 - y) / (y1 - y0) * (_HEIGHT - _TOP - _BOTTOM)
            return f"{px:.1f},{py:.1f}"

        for i, row in enumerate(comparison.rows):
            if not len(row.curve_numbers):
                continue
            corners = [place(row.curve_numbers[0], row.curve_values[0])]
            for x, y, previous in zip(row.curve_numbers[1:], row.curve_values[1:], row.curve_values[:-1]):
                corners += [place(x, previous), place(x, y)]
            parts.append(f'<polyline class="autotune-compare-line" points="{" ".join(corners)}" fill="none" '
                         f'stroke="{series_color(i)}" stroke-width="2"><title>{html.escape(row.name)}'
                         "</title></polyline>")
        bottom = _HEIGHT - _BOTTOM
        for y in {y0, y1}:
            parts.append(f'<text x="{_LEFT - 4}" y="{place(x0, y).split(",")[1]}" text-anchor="end" {_TEXT_STYLE}>'
                         f"{html.escape(format_value(y))}</text>")
        parts.append(f'<text x="{_WIDTH - _RIGHT}" y="{bottom + 12}" text-anchor="end" {_TEXT_STYLE}>{int(x1)}</text>')
        parts.append(f'<text x="{_LEFT}" y="{bottom + 12}" text-anchor="middle" {_TEXT_STYLE}>0</text>')
    parts.append(f'<text x="{(_LEFT + _WIDTH) / 2:.0f}" y="{_HEIGHT - 6}" text-anchor="middle" {_TEXT_STYLE}>'
                 "trial</text></svg>")
    return "".join(parts)
