"""Metrics with bootstrap 95 % intervals, the trade-off curve and calibration error.

Every interval is a percentile bootstrap with a fixed seed, so a run is reproducible. For a
rate (a mean of pass/fail outcomes) resampling ``n`` outcomes with replacement gives a
pass count that is exactly ``Binomial(n, p)``, so rates are bootstrapped by drawing that
count directly (the same distribution, without an ``n_boot x n`` index matrix).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from bastion.eval.results import CategoryRow, ItemResult, Metric

__all__ = [
    "BOOTSTRAP_SAMPLES",
    "CurvePoint",
    "ReliabilityBin",
    "bootstrap_mean",
    "bootstrap_stat",
    "expected_calibration_error",
    "rate",
    "rows_by",
    "tradeoff_curve",
]

BOOTSTRAP_SAMPLES = 2000
_LEVEL = 0.95


def rate(
    name: str, outcomes: Iterable[bool], *, seed: int = 0, higher_is_better: bool = True
) -> Metric:
    """The share of true outcomes, with a bootstrap 95 % interval and the count.

    An empty input gives ``value = low = high = 0`` and ``n = 0`` (reports show "n/a").
    """
    flags = [bool(o) for o in outcomes]
    n = len(flags)
    if n == 0:
        return Metric(name, 0.0, 0.0, 0.0, 0, higher_is_better)
    p = sum(flags) / n
    rng = np.random.default_rng(seed)
    draws = rng.binomial(n, p, size=BOOTSTRAP_SAMPLES) / n
    low, high = _percentiles(draws)
    return Metric(name, p, low, high, n, higher_is_better)


def bootstrap_mean(
    name: str, values: Sequence[float], *, seed: int = 0, higher_is_better: bool = True
) -> Metric:
    """The mean of ``values`` with a percentile bootstrap 95 % interval."""
    data = np.asarray(values, dtype=np.float64)
    if data.size == 0:
        return Metric(name, 0.0, 0.0, 0.0, 0, higher_is_better)
    rng = np.random.default_rng(seed)
    index = rng.integers(0, data.size, size=(BOOTSTRAP_SAMPLES, data.size))
    low, high = _percentiles(data[index].mean(axis=1))
    return Metric(name, float(data.mean()), low, high, int(data.size), higher_is_better)


Statistic = Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]
"""Maps rows of shape ``(..., n, k)`` to ``(values, counts)`` of shape ``(...)``; a value
is NaN where its count is 0 (e.g. precision with nothing predicted positive)."""


def bootstrap_stat(
    name: str,
    rows: np.ndarray,
    stat: Statistic,
    *,
    seed: int = 0,
    higher_is_better: bool = True,
) -> Metric:
    """A statistic of ``rows`` (shape ``(n, k)``) with a percentile bootstrap 95 % interval
    over resampled rows; ``n`` of the metric is the statistic's own count (e.g. the
    predicted positives of a precision). Undefined draws are left out of the interval."""
    if rows.shape[0] == 0:
        return Metric(name, 0.0, 0.0, 0.0, 0, higher_is_better)
    value, count = stat(rows)
    if int(count) == 0 or np.isnan(value):
        return Metric(name, 0.0, 0.0, 0.0, 0, higher_is_better)
    rng = np.random.default_rng(seed)
    index = rng.integers(0, rows.shape[0], size=(BOOTSTRAP_SAMPLES, rows.shape[0]))
    draws, _ = stat(rows[index])
    low, high = _percentiles(draws[~np.isnan(draws)])
    point = float(value)
    return Metric(name, point, min(low, point), max(high, point), int(count), higher_is_better)


def _percentiles(draws: np.ndarray) -> tuple[float, float]:
    tail = (1.0 - _LEVEL) / 2 * 100
    low, high = np.percentile(draws, [tail, 100 - tail])
    return float(low), float(high)


def rows_by(table: str, items: Sequence[ItemResult], *, seed: int = 0) -> tuple[CategoryRow, ...]:
    """Pass rate per ``group`` of ``items``, sorted by group name."""
    groups: dict[str, list[bool]] = defaultdict(list)
    for item in items:
        groups[item.group].append(item.passed)
    return tuple(
        CategoryRow(table, name, rate("pass_rate", flags, seed=seed))
        for name, flags in sorted(groups.items())
    )


@dataclass(frozen=True, slots=True)
class CurvePoint:
    """One threshold of the trade-off curve: acting at ``score >= threshold``."""

    threshold: float
    benign_pass: float
    unsafe_catch: float


def tradeoff_curve(
    benign: Sequence[float], unsafe: Sequence[float], *, steps: int = 101
) -> tuple[CurvePoint, ...]:
    """Benign pass rate vs unsafe catch rate when acting on every score at or above a
    threshold, for ``steps`` thresholds from 0 to 1 (empty when a side has no scores)."""
    if not benign or not unsafe:
        return ()
    safe_scores = np.asarray(benign, dtype=np.float64)
    bad_scores = np.asarray(unsafe, dtype=np.float64)
    return tuple(
        CurvePoint(
            float(t),
            float(np.mean(safe_scores < t)),
            float(np.mean(bad_scores >= t)),
        )
        for t in np.linspace(0.0, 1.0, steps)
    )


@dataclass(frozen=True, slots=True)
class ReliabilityBin:
    """One bin of a reliability diagram: mean score vs observed unsafe share."""

    low: float
    high: float
    count: int
    mean_score: float
    unsafe_share: float


def expected_calibration_error(
    scores: Sequence[float], labels: Sequence[bool], *, bins: int = 10
) -> tuple[float, tuple[ReliabilityBin, ...]]:
    """ECE (count-weighted mean |score - observed share| over equal-width bins) and bins."""
    if not scores or len(scores) != len(labels):
        return 0.0, ()
    s = np.clip(np.asarray(scores, dtype=np.float64), 0.0, 1.0)
    y = np.asarray(labels, dtype=np.float64)
    which = np.minimum((s * bins).astype(int), bins - 1)
    out: list[ReliabilityBin] = []
    ece = 0.0
    for b in range(bins):
        mask = which == b
        count = int(mask.sum())
        if count == 0:
            continue
        mean_s, share = float(s[mask].mean()), float(y[mask].mean())
        ece += count / s.size * abs(mean_s - share)
        out.append(ReliabilityBin(b / bins, (b + 1) / bins, count, mean_s, share))
    return ece, tuple(out)
