"""Interval estimates: one convention for every interval bastion publishes.

- a **proportion** (``k`` successes of ``n`` trials: a pass rate, an ASR, a precision) gets
  the Wilson score interval (:func:`wilson`);
- a **difference of two proportions** (run B against run A) gets Newcombe's hybrid score
  interval, method 10 of Newcombe (1998), built from the two Wilson intervals
  (:func:`newcombe_difference`); the same construction over any two intervals of
  independent estimates is the MOVER of Zou & Donner (2008) (:func:`mover_difference`);
- a statistic that is **not a proportion** (a mean of non-binary values, F1, Cohen's kappa)
  gets a percentile bootstrap with a fixed seed (:func:`bootstrap_interval`).

Every interval is 95 % by default. Wilson never collapses to a point: ``0/n`` has low 0
and a high above 0, ``n/n`` has high 1 and a low below 1, where a bootstrap that resamples
the observed share would publish ``[0, 0]`` or ``[1, 1]``. Design note 0042 says why.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Final

import numpy as np

__all__ = [
    "BOOTSTRAP_SAMPLES",
    "Z95",
    "Statistic",
    "bootstrap_interval",
    "mover_difference",
    "newcombe_difference",
    "wilson",
]

Z95: Final = 1.959963984540054
"""The standard normal quantile of a two-sided 95 % interval."""

BOOTSTRAP_SAMPLES: Final = 2000
"""Resamples of :func:`bootstrap_interval` unless told otherwise."""


def wilson(successes: int, trials: int, z: float = Z95) -> tuple[float, float]:
    """The Wilson score interval ``(low, high)`` of ``successes / trials``.

    ``(0.0, 1.0)`` without trials (nothing is known). Otherwise ``low <= p <= high`` and
    ``low < high``; the ends are exact at the edges: low is 0 for ``0/n`` and high is 1 for
    ``n/n``.

    Raises:
        ValueError: ``successes`` is not in ``0..trials``.
    """
    if trials <= 0:
        return (0.0, 1.0)
    if not 0 <= successes <= trials:
        raise ValueError(f"successes must be in 0..{trials}, got {successes}")
    p = successes / trials
    z2 = z * z
    denom = 1 + z2 / trials
    centre = (p + z2 / (2 * trials)) / denom
    half = z * math.sqrt(p * (1 - p) / trials + z2 / (4 * trials * trials)) / denom
    low = 0.0 if successes == 0 else min(p, max(0.0, centre - half))
    high = 1.0 if successes == trials else max(p, min(1.0, centre + half))
    return (low, high)


def mover_difference(
    first: float,
    first_interval: tuple[float, float],
    second: float,
    second_interval: tuple[float, float],
) -> tuple[float, float, float]:
    """The difference ``second - first`` of two independent estimates and its interval.

    MOVER (method of variance estimates recovery, Zou & Donner 2008): each end of the
    difference's interval combines the distances from each estimate to the matching end
    of its own interval, so skewed intervals (a share near 0 or 1) stay skewed.

    Returns:
        ``(second - first, low, high)`` with ``low <= second - first <= high``.
    """
    l1, u1 = first_interval
    l2, u2 = second_interval
    diff = second - first
    low = diff - math.hypot(second - l2, u1 - first)
    high = diff + math.hypot(u2 - second, first - l1)
    return (diff, low, high)


def newcombe_difference(
    k1: int, n1: int, k2: int, n2: int, z: float = Z95
) -> tuple[float, float, float]:
    """The difference of two independent proportions with Newcombe's interval.

    **Sign convention: the second minus the first**, ``p2 - p1`` with ``p1 = k1 / n1``
    (the baseline, run A, "before") and ``p2 = k2 / n2`` (the new run, run B, "after"):
    a positive difference means the second share is higher. The interval is Newcombe's
    hybrid score interval (method 10 of Newcombe 1998), :func:`mover_difference` over the
    two Wilson intervals; it lies in ``[-1, 1]`` and contains the difference. A side
    without trials counts as share 0 with interval ``(0, 1)``, so nothing is excluded.

    Example: ``newcombe_difference(48, 80, 56, 70)`` is ``(0.2, 0.0524, 0.3339)`` (rounded;
    Newcombe's 56/70 against 48/80).

    Returns:
        ``(p2 - p1, low, high)``.
    """
    p1 = k1 / n1 if n1 > 0 else 0.0
    p2 = k2 / n2 if n2 > 0 else 0.0
    diff, low, high = mover_difference(p1, wilson(k1, n1, z), p2, wilson(k2, n2, z))
    return (diff, max(-1.0, min(low, diff)), min(1.0, max(high, diff)))


Statistic = Callable[[np.ndarray], np.ndarray]
"""Maps a stack of samples of shape ``(m, n, ...)`` (``m`` samples of ``n`` rows) to one
value per sample, shape ``(m,)``; NaN where the statistic is undefined for a sample."""


def bootstrap_interval(
    data: np.ndarray,
    statistic: Statistic,
    *,
    seed: int = 0,
    samples: int = BOOTSTRAP_SAMPLES,
    level: float = 0.95,
) -> tuple[float, float]:
    """Percentile bootstrap interval ``(low, high)`` of ``statistic`` over the rows of
    ``data`` (axis 0), for statistics that are NOT proportions (use :func:`wilson` there).

    Rows are resampled with replacement ``samples`` times with a fixed ``seed``, so a run
    is reproducible; resamples where the statistic is NaN are left out. The interval always
    contains the statistic of ``data`` itself. It never has zero width for a
    non-degenerate sample: when the percentiles coincide, the interval widens to the
    smallest and largest resampled value.

    **Degenerate sample**: when every row is identical, every resample equals the sample
    and the interval is the point ``(s, s)``; the data show no variation to measure.

    Raises:
        ValueError: ``data`` is empty, the statistic is NaN for ``data`` or for every
            resample, or it takes one value over every resample of a non-degenerate
            sample (the bootstrap cannot see its uncertainty).
    """
    rows = np.asarray(data, dtype=np.float64)
    if rows.shape[0] == 0:
        raise ValueError("bootstrap of an empty sample")
    point = float(statistic(rows[np.newaxis])[0])
    if math.isnan(point):
        raise ValueError("the statistic is undefined for the sample")
    if bool(np.all(rows == rows[0])):
        return (point, point)
    rng = np.random.default_rng(seed)
    index = rng.integers(0, rows.shape[0], size=(samples, rows.shape[0]))
    draws = np.asarray(statistic(rows[index]), dtype=np.float64)
    draws = draws[~np.isnan(draws)]
    if draws.size == 0:
        raise ValueError("the statistic is undefined for every resample")
    tail = (1.0 - level) / 2 * 100
    low, high = (float(x) for x in np.percentile(draws, [tail, 100 - tail]))
    if low == high:
        low, high = float(draws.min()), float(draws.max())
    if low == high:
        raise ValueError("the statistic does not vary over resamples of a varied sample")
    return (min(low, point), max(high, point))
