"""Regret summaries against a reference entrant (optuna's TPE), for search_quality.py: mean, median
and 90th percentile over seeds, each with a 95% paired-bootstrap interval for the ratio ours / the
reference's (the same resampled seeds for both; a ratio below 1 favours ours)."""

from __future__ import annotations

import numpy as np

STATISTICS = {"mean": np.mean, "median": np.median, "p90": lambda a, axis=None: np.percentile(a, 90, axis=axis)}
BOOTSTRAP_RESAMPLES = 2000


def summary(regret: np.ndarray) -> dict[str, float]:
    return {name: float(stat(regret)) for name, stat in STATISTICS.items()}


def paired_ratio(ours: np.ndarray, reference: np.ndarray, statistic: str,
                 rng: np.random.Generator) -> tuple[float, float, float]:
    """stat(ours) / stat(reference) and its 95% interval from resampling the seeds (paired)."""
    stat = STATISTICS[statistic]
    picks = rng.integers(len(ours), size=(BOOTSTRAP_RESAMPLES, len(ours)))
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = stat(ours) / stat(reference)
        resampled = stat(ours[picks], axis=1) / stat(reference[picks], axis=1)
    # No interpolation between resamples: a reference regret of 0 makes some ratios infinite.
    low, high = np.quantile(resampled[~np.isnan(resampled)], [0.025, 0.975], method="inverted_cdf")
    return float(ratio), float(low), float(high)


def format_against(ours: np.ndarray, reference: np.ndarray, rng: np.random.Generator) -> str:
    """'mean 1.2 (x0.80 [0.50, 1.10])  median ...  p90 ...': ours, then the ratio to the reference."""
    values = summary(ours)
    cells = []
    for name in STATISTICS:
        ratio, low, high = paired_ratio(ours, reference, name, rng)
        cells.append(f"{name} {values[name]:.4g} (x{ratio:.2f} [{low:.2f}, {high:.2f}])")
    return "  ".join(cells)
