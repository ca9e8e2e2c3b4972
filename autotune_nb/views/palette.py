"""The colours of every chart, live (bqplot widgets) and static (SVG), in one place.

The categorical colours are Okabe and Ito's palette ("Color Universal Design", 2008): eight colours
that stay distinct for the common kinds of colour blindness (deuteranopia, protanopia, tritanopia)
and in grey print. Trial states take the ones whose meaning reads at a glance (blue succeeded,
vermillion failed, orange stopped early); the grey ones are for trials that give no result. Results on
a continuous scale use viridis, which is perceptually uniform and colour-blind safe.
"""

from __future__ import annotations

from ..trial import TrialState

BLACK = "#000000"
ORANGE = "#e69f00"
SKY_BLUE = "#56b4e9"
BLUISH_GREEN = "#009e73"
YELLOW = "#f0e442"
BLUE = "#0072b2"
VERMILLION = "#d55e00"
REDDISH_PURPLE = "#cc79a7"

#: Okabe-Ito, in the order series take them (several studies on one chart); yellow last, as it is
#: the faintest on white.
CATEGORICAL = (BLUE, ORANGE, BLUISH_GREEN, REDDISH_PURPLE, SKY_BLUE, VERMILLION, BLACK, YELLOW)

STATE_COLORS = {
    TrialState.WAITING: "#bbbbbb",
    TrialState.RUNNING: BLUISH_GREEN,
    TrialState.SUCCEEDED: BLUE,
    TrialState.EARLY_STOPPED: ORANGE,
    TrialState.FAILED: VERMILLION,
    TrialState.CANCELED: "#999999",
    TrialState.TIMEOUT: REDDISH_PURPLE,
}

BEST_LINE = BLACK  # the best-so-far line over the per-trial dots
RESULT = BLUE  # marks coloured by nothing but being a trial (slices, one-colour lines)
RESULT_SCHEME = "viridis"  # results on a continuous colour scale (bqplot ColorScale scheme)


def series_color(index: int) -> str:
    """The colour of the ``index``-th series of a chart (cycling through ``CATEGORICAL``)."""
    return CATEGORICAL[index % len(CATEGORICAL)]
