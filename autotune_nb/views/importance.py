"""Which parameters matter: a PED-ANOVA score per search-space dimension.

The method (Watanabe et al. 2023, "PED-ANOVA"): take the best ``TARGET_QUANTILE`` of the succeeded
trials; a parameter matters as much as the distribution of its values among those trials differs
from their distribution among all trials. The difference is the Pearson divergence
``sum_b p_top(b)**2 / p_all(b) - 1`` over bins of the parameter's unit-cube coordinate
(``SearchSpace.encode``: log types warped, a choice one bin per option). Numeric densities are
histograms smoothed by one Gaussian kernel (Scott's bandwidth of the best trials); a choice's are
counts plus one.
Scores are normalised to sum to 1.

Why this method: it costs one pass over the trials plus a fixed ``BINS x BINS`` product per
dimension, so the live dashboard can recompute it on 10,000 trials, and on functions whose
important parameters are known it ranks them as fANOVA on a random forest does
(``benchmarks/importance.py`` prints both, and Optuna's evaluators, with their times). It needs no
model, hence no scikit-learn.

Only the succeeded trials with a finite result count; a nested dimension is scored over the trials
where its branch was taken. Fewer than ``MIN_TRIALS`` such trials: no scores (None).
"""

from __future__ import annotations

import dataclasses
import math
from typing import TYPE_CHECKING, Sequence

import numpy as np

from ..errors import ConfigurationError
from ..space import SearchSpace
from ..space.choices import Choice
from ..trial import Trial
from ..vocabulary import Direction
from . import charts

if TYPE_CHECKING:
    from .study_view import StudyView

#: The share of the succeeded trials whose parameters are compared with all trials'.
TARGET_QUANTILE = 0.1
#: The fewest succeeded trials (with the dimension active) that give a score.
MIN_TRIALS = 10
#: Bins of a numeric dimension's unit-cube coordinate.
BINS = 50
_CENTRES = (np.arange(BINS) + 0.5) / BINS


@dataclasses.dataclass(frozen=True)
class Importance:
    """Scores per dimension key (``Dimension.key``), most important first, summing to 1 (all 0 when
    no parameter makes a difference); ``trials``: how many trials they were computed from."""

    names: tuple[str, ...]
    scores: tuple[float, ...]
    trials: int

    def as_dict(self) -> dict[str, float]:
        return dict(zip(self.names, self.scores))


def importance(study: "StudyView") -> dict[str, float]:
    """``at.importance(study)``: how much each parameter matters to the result, most important
    first, the scores summing to 1 (PED-ANOVA, see the module's doc). Raises ConfigurationError
    (a ValueError) when the study has fewer than ``MIN_TRIALS`` succeeded trials with a finite result."""
    scores = importance_of_trials(study.trials, study.config.direction, study.space)
    if scores is None:
        raise ConfigurationError(f"study {study.config.name!r}: importance needs at least {MIN_TRIALS} succeeded "
                         "trials with a finite result")
    return scores.as_dict()


def importance_of_trials(trials: Sequence[Trial], direction: Direction | str,
                         space: SearchSpace) -> Importance | None:
    return importance_of(charts.columns_of(trials), direction, space)


def importance_of(columns: charts.Columns, direction: Direction | str, space: SearchSpace,
                  encoder: charts.CachedEncoder | None = None, max_trials: int | None = None) -> Importance | None:
    """The scores of every dimension of ``space`` from the succeeded trials of ``columns``; pass the
    dashboard's ``encoder`` to reuse the encodings it keeps.

    ``max_trials``: beyond it, a sample of about that many (``charts.sample_by_number``: each
    trial encoded once however often a live view recomputes)."""
    encode = encoder or charts.CachedEncoder(space)
    ranked = charts.ranked(columns, direction)  # best first
    if max_trials is not None:
        ranked = charts.sample_by_number(columns, ranked, max_trials)
    if len(ranked) < MIN_TRIALS:
        return None
    points = encode.rows([columns.trials[i] for i in ranked])
    options = [len(dim.distribution.options) if isinstance(dim.distribution, Choice) else None
               for dim in space.dimensions]
    values = columns.values[ranked]
    # Equal results: no "best trials" to tell apart, so nothing matters.
    scores = ped_anova(points, options) if values[0] != values[-1] else np.zeros(len(options))
    keys = tuple(dim.key for dim in space.dimensions)
    order = np.argsort(-scores, kind="stable")
    return Importance(tuple(keys[i] for i in order), tuple(float(scores[i]) for i in order), len(ranked))


def ped_anova(points: np.ndarray, options: Sequence[int | None],
              target_quantile: float = TARGET_QUANTILE) -> np.ndarray:
    """Normalised scores of the columns of ``points``: unit-cube coordinates of trials sorted best
    first (NaN where a dimension is inactive). ``options[j]``: the number of options of a choice
    column, None for a numeric one."""
    raw = np.zeros(points.shape[1])
    for j, count in enumerate(options):
        column = points[:, j]
        active = np.isfinite(column)
        if np.count_nonzero(active) < MIN_TRIALS:
            continue
        values = column[active]  # still best first
        top = values[: max(2, math.ceil(target_quantile * len(values)))]
        if count is not None:
            p_top, p_all = _choice_density(top, count), _choice_density(values, count)
        else:  # one kernel for both: unequal smoothing alone would make a difference (e.g. of a randint)
            kernel = _kernel(top)
            p_top, p_all = _numeric_density(top, kernel), _numeric_density(values, kernel)
        raw[j] = max(0.0, float(np.sum(p_top * p_top / p_all)) - 1.0)
    total = raw.sum()
    return raw / total if total > 0 else raw


def _choice_density(values: np.ndarray, options: int) -> np.ndarray:
    """Probabilities of the options: counts plus one, so that an option never drawn stays possible."""
    counts = np.bincount(np.minimum((values * options).astype(int), options - 1), minlength=options)
    return (counts + 1.0) / (len(values) + options)


def _kernel(values: np.ndarray) -> np.ndarray:
    """A Gaussian kernel over the bins with Scott's bandwidth for ``values`` (at least one bin wide):
    column b is where bin b's mass goes, cut to [0, 1] and renormalised."""
    bandwidth = max(1.06 * float(np.std(values)) * len(values) ** -0.2, 1.0 / BINS)
    kernel = np.exp(-0.5 * ((_CENTRES[:, None] - _CENTRES[None, :]) / bandwidth) ** 2)
    return kernel / kernel.sum(axis=0, keepdims=True)


def _numeric_density(values: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """Probability per bin of the kernel estimate; a 1e-3 uniform share keeps it above 0."""
    histogram = np.bincount(np.minimum((values * BINS).astype(int), BINS - 1), minlength=BINS)
    return 0.999 * (kernel @ histogram) / len(values) + 0.001 / BINS
