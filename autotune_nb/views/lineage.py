"""A trial's place in a multi-fidelity or population schedule, in words for the trials tables of the
static view and the dashboard: its budget, bracket and rung (Hyperband, BOHB), generation and
member (PBT), and the trial it started from (a promotion, or the member a PBT generation copied)."""

from __future__ import annotations

from ..directives import Directives


def lineage_label(directives: Directives | None) -> str:
    """E.g. "bracket 0 rung 1 · budget 3 · from #7 (checkpoint)"; "" for a trial without directives."""
    if directives is None:
        return ""
    parts = []
    if directives.bracket is not None:
        parts.append(f"bracket {directives.bracket} rung {directives.rung}")
    if directives.generation is not None:
        parts.append(f"generation {directives.generation} member {directives.member}")
    if directives.budget is not None:
        parts.append(f"budget {directives.budget:g}")
    if directives.parent is not None:
        how = {True: " (checkpoint)", False: " (rerun)"}.get(directives.resumed, "")
        parts.append(f"from #{directives.parent}{how}")
    return " · ".join(parts)
