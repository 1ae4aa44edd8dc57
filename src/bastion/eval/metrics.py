"""Metrics with 95 % intervals, the trade-off curve and calibration error.

Intervals follow the one convention of :mod:`bastion.core.stats`: a share of outcomes
(a rate, a precision, a mean of 0/1 values) gets the Wilson score interval from its
counts, so ``0/n`` and ``n/n`` keep a non-zero width; only statistics that are not
proportions (a mean of non-binary values, F1, kappa) get a percentile bootstrap with a
fixed seed.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from bastion.core.stats import BOOTSTRAP_SAMPLES, Statistic, bootstrap_interval, wilson
from bastion.eval.results import CategoryRow, ItemResult, Metric

__all__ = [
    "BOOTSTRAP_SAMPLES",
    "CurvePoint",
    "ReliabilityBin",
    "bootstrap_mean",
    "bootstrap_stat",
    "expected_calibration_error",
    "proportion",
    "rate",
    "rows_by",
    "tradeoff_curve",
]


def proportion(name: str, successes: int, trials: int, *, higher_is_better: bool = True) -> Metric:
    """``successes / trials`` with its Wilson 95 % interval; ``n`` is ``trials``.

    No trials gives ``value = low = high = 0`` and ``n = 0`` (reports show "n/a").
    """
    if trials <= 0:
        return Metric(name, 0.0, 0.0, 0.0, 0, higher_is_better)
    low, high = wilson(successes, trials)
    return Metric(name, successes / trials, low, high, trials, higher_is_better)


def rate(
    name: str, outcomes: Iterable[bool], *, seed: int = 0, higher_is_better: bool = True
) -> Metric:
    """The share of true outcomes, with its Wilson 95 % interval and the count.

    ``seed`` is accepted so that a suite hands one seed to every metric; a Wilson interval
    needs none. An empty input gives ``value = low = high = 0`` and ``n = 0``.
    """
    del seed
    flags = [bool(o) for o in outcomes]
    return proportion(name, sum(flags), len(flags), higher_is_better=higher_is_better)


def bootstrap_mean(
    name: str, values: Sequence[float], *, seed: int = 0, higher_is_better: bool = True
) -> Metric:
    """The mean of ``values``: Wilson when every value is 0 or 1 (the mean is then a
    proportion), otherwise a percentile bootstrap 95 % interval (identical values give a
    zero-width interval: the sample shows no variation)."""
    data = np.asarray(values, dtype=np.float64)
    if data.size == 0:
        return Metric(name, 0.0, 0.0, 0.0, 0, higher_is_better)
    if bool(np.isin(data, (0.0, 1.0)).all()):
        return proportion(name, int(data.sum()), int(data.size), higher_is_better=higher_is_better)
    low, high = bootstrap_interval(data, lambda x: x.mean(axis=1), seed=seed)
    return Metric(name, float(data.mean()), low, high, int(data.size), higher_is_better)


def bootstrap_stat(
    name: str,
    rows: np.ndarray,
    stat: Statistic,
    *,
    count: int | None = None,
    seed: int = 0,
    higher_is_better: bool = True,
) -> Metric:
    """A statistic of ``rows`` (shape ``(n, k)``) that is NOT a proportion (F1, kappa; for a
    proportion use :func:`proportion` on its counts), with a percentile bootstrap 95 %
    interval over resampled rows (:func:`bastion.core.stats.bootstrap_interval`).

    ``stat`` maps rows of shape ``(m, n, k)`` to ``m`` values (NaN where undefined). ``n``
    of the metric is ``count`` (default: the rows). A statistic undefined on ``rows``, or
    one the bootstrap cannot give a non-degenerate interval, is reported as not measured
    (``n = 0``)."""
    if rows.shape[0] == 0:
        return Metric(name, 0.0, 0.0, 0.0, 0, higher_is_better)
    try:
        low, high = bootstrap_interval(rows, stat, seed=seed)
    except ValueError:
        return Metric(name, 0.0, 0.0, 0.0, 0, higher_is_better)
    point = float(stat(rows[np.newaxis])[0])
    n = rows.shape[0] if count is None else count
    return Metric(name, point, low, high, int(n), higher_is_better)


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
