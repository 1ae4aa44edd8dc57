"""Charts over time, drawn on the server with matplotlib as SVG and reused for a while.

Four charts from the store's :meth:`~bastion.oversight.AuditLog.stats` buckets: decisions
by action, decisions by category, refusal rate with reports, and decision latency
(p50 / p95). Each figure is a plain :class:`matplotlib.figure.Figure` (no pyplot, so no
global state); drawing is serialised by a lock because matplotlib's text machinery is not
thread-safe.
"""

from __future__ import annotations

import io
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from bastion.oversight import StatsBucket
from bastion.records import Clock, utc_now

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = ["CHARTS", "WINDOWS", "ChartCache", "render_chart"]

WINDOWS: dict[str, tuple[timedelta, timedelta]] = {
    "24h": (timedelta(hours=24), timedelta(hours=1)),
    "7d": (timedelta(days=7), timedelta(hours=6)),
    "30d": (timedelta(days=30), timedelta(days=1)),
}
"""Window name -> (span, bucket)."""

CHARTS: dict[str, str] = {
    "actions": "Decisions by action",
    "categories": "Decisions by category",
    "refusals": "Refusal rate and reports",
    "latency": "Decision latency",
}
"""Chart name -> title."""

_ACTION_COLOURS = {
    "allow": "#1f7a3f",
    "caution": "#a36300",
    "ask_context": "#6a3fb5",
    "refuse": "#b3261e",
}
_TOP_CATEGORIES = 6


def render_chart(name: str, buckets: Sequence[StatsBucket], *, title: str) -> bytes:
    """One chart as SVG bytes.

    Raises:
        KeyError: ``name`` is not in :data:`CHARTS`.
    """
    from matplotlib.dates import AutoDateLocator, ConciseDateFormatter
    from matplotlib.figure import Figure

    draw = _DRAWERS[name]
    figure = Figure(figsize=(6.4, 3.2), dpi=100, layout="constrained")
    axes = figure.add_subplot()
    draw(axes, buckets)
    axes.set_title(title, fontsize=11, loc="left")
    axes.grid(axis="y", alpha=0.3)
    axes.tick_params(labelsize=8)
    if buckets:
        times = _times(buckets)
        axes.set_xlim(times[0], times[-1] + _width(buckets) / 0.8)
        locator = AutoDateLocator()  # type: ignore[no-untyped-call]
        axes.xaxis.set_major_locator(locator)
        axes.xaxis.set_major_formatter(ConciseDateFormatter(locator))  # type: ignore[no-untyped-call]
    out = io.BytesIO()
    figure.savefig(out, format="svg", metadata={"Date": None})
    return out.getvalue()


def _times(buckets: Sequence[StatsBucket]) -> Any:
    """Bucket starts as matplotlib date numbers."""
    from matplotlib.dates import date2num

    return date2num([b.start for b in buckets])  # type: ignore[no-untyped-call]


def _values(values: Sequence[float | None]) -> Any:
    """A series with gaps (None) as NaN, which matplotlib leaves out."""
    import numpy as np

    return np.array([np.nan if v is None else v for v in values], dtype=float)


def _width(buckets: Sequence[StatsBucket]) -> float:
    """Bar width in days (matplotlib's date unit): 80 % of a bucket."""
    if len(buckets) < 2:
        return 1 / 24
    return (buckets[1].start - buckets[0].start).total_seconds() / 86_400 * 0.8


def _stacked(axes: Axes, buckets: Sequence[StatsBucket], series: dict[str, list[int]]) -> None:
    times, width = _times(buckets), _width(buckets)
    bottom = [0] * len(buckets)
    for label, counts in series.items():
        colour = _ACTION_COLOURS.get(label)
        axes.bar(times, counts, width=width, bottom=bottom, label=label, color=colour, align="edge")
        bottom = [a + b for a, b in zip(bottom, counts, strict=True)]
    axes.set_ylabel("decisions", fontsize=9)
    if series and any(bottom):
        axes.legend(fontsize=7, ncols=min(len(series), 4), loc="upper left")
    if not any(bottom):
        _empty(axes)


def _draw_actions(axes: Axes, buckets: Sequence[StatsBucket]) -> None:
    series = {a: [b.by_action.get(a, 0) for b in buckets] for a in _ACTION_COLOURS}
    _stacked(axes, buckets, series)


def _draw_categories(axes: Axes, buckets: Sequence[StatsBucket]) -> None:
    totals: dict[str, int] = {}
    for bucket in buckets:
        for category, count in bucket.by_category.items():
            totals[category] = totals.get(category, 0) + count
    top = sorted(totals, key=lambda c: (-totals[c], c))[:_TOP_CATEGORIES]
    series = {c: [b.by_category.get(c, 0) for b in buckets] for c in top}
    if len(totals) > len(top):
        series["other"] = [
            sum(n for c, n in b.by_category.items() if c not in top) for b in buckets
        ]
    _stacked(axes, buckets, series)


def _draw_refusals(axes: Axes, buckets: Sequence[StatsBucket]) -> None:
    times = _times(buckets)
    rates = _values([100 * b.refusal_rate if b.decisions else None for b in buckets])
    axes.plot(times, rates, marker="o", markersize=3, color="#b3261e", label="refusal rate")
    axes.set_ylabel("refusals, % of decisions", fontsize=9)
    axes.set_ylim(0, 100)
    twin = axes.twinx()
    twin.bar(
        times,
        [b.reports for b in buckets],
        width=_width(buckets),
        align="edge",
        alpha=0.35,
        color="#2456c9",
        label="reports",
    )
    twin.set_ylabel("reports and appeals", fontsize=9)
    twin.tick_params(labelsize=8)
    if not any(b.decisions or b.reports for b in buckets):
        _empty(axes)


def _draw_latency(axes: Axes, buckets: Sequence[StatsBucket]) -> None:
    times = _times(buckets)
    for label in ("p50", "p95"):
        series = _values([getattr(b, f"latency_ms_{label}") for b in buckets])
        axes.plot(times, series, marker="o", markersize=3, label=label)
    axes.set_ylabel("guard latency, ms", fontsize=9)
    if any(b.latency_ms_p50 is not None for b in buckets):
        axes.legend(fontsize=7, loc="upper left")
    else:
        _empty(axes)


def _empty(axes: Axes) -> None:
    axes.text(
        0.5,
        0.5,
        "no decisions in this window",
        transform=axes.transAxes,
        ha="center",
        va="center",
        color="#5d6678",
    )


_DRAWERS: dict[str, Callable[[Axes, Sequence[StatsBucket]], None]] = {
    "actions": _draw_actions,
    "categories": _draw_categories,
    "refusals": _draw_refusals,
    "latency": _draw_latency,
}


@dataclass(frozen=True, slots=True)
class _Cached:
    made: datetime
    svg: bytes


class ChartCache:
    """Rendered charts by (name, window), reused for ``ttl_s`` seconds.

    Args:
        stats: the store's ``stats`` method.
        ttl_s: how long a chart is reused (0: always redraw).
        clock: the time source.
    """

    def __init__(
        self,
        stats: Callable[..., Sequence[StatsBucket]],
        *,
        ttl_s: float,
        clock: Clock = utc_now,
    ) -> None:
        self._stats = stats
        self._ttl = timedelta(seconds=ttl_s)
        self._clock = clock
        self._cache: dict[tuple[str, str], _Cached] = {}
        self._lock = threading.Lock()

    def svg(self, name: str, window: str) -> bytes:
        """The chart, from the cache when fresh (blocking: call it on a worker thread).

        Raises:
            KeyError: unknown chart or window.
        """
        span, bucket = WINDOWS[window]
        title = CHARTS[name]
        now = self._clock()
        with self._lock:
            hit = self._cache.get((name, window))
            if hit is not None and now - hit.made < self._ttl:
                return hit.svg
            until = _bucket_floor(now, bucket) + bucket
            buckets = self._stats(since=until - span, until=until, bucket=bucket)
            svg = render_chart(name, buckets, title=f"{title}, last {window}")
            self._cache[(name, window)] = _Cached(now, svg)
            return svg


def _bucket_floor(moment: datetime, bucket: timedelta) -> datetime:
    """``moment`` rounded down to a whole bucket (so buckets line up between renders)."""
    step = bucket.total_seconds()
    return datetime.fromtimestamp(moment.timestamp() // step * step, tz=moment.tzinfo)
