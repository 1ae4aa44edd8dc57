"""Comparison of two runs: every shared metric, the difference B - A and its interval.

Runs are read from their ``report.json`` (the summary every run writes). Every rate of a
report is ``k`` of ``n`` (its value is ``k / n`` to the report's four decimals), so the
difference of a rate is given Newcombe's hybrid score 95 % interval (method 10, from the
two Wilson intervals; :func:`bastion.core.stats.newcombe_difference`). A metric that is
not ``k / n`` (a mean of non-binary values, F1) is differenced with the same construction
over its own two intervals (MOVER, :func:`bastion.core.stats.mover_difference`). One
interval of the difference, not two overlapping intervals: a difference whose interval
excludes zero is marked ``better`` or ``worse`` by the metric's direction; otherwise
``unclear``. The two runs are treated as independent samples, which is conservative when
they asked the same items.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bastion.core.errors import InputError
from bastion.core.stats import mover_difference, newcombe_difference
from bastion.eval.rerender import metric_counts, metric_from_dict, with_wilson
from bastion.eval.results import Metric

__all__ = [
    "MetricDiff",
    "compare_reports",
    "comparison_markdown",
    "load_report_json",
    "metric_difference",
]


@dataclass(frozen=True, slots=True)
class MetricDiff:
    """One metric of two runs and their difference ``b - a`` with its 95 % interval."""

    suite: str
    a: Metric
    b: Metric
    diff: float
    low: float
    high: float

    @property
    def verdict(self) -> str:
        """``better`` / ``worse`` when the interval excludes 0 (by direction), else ``unclear``."""
        if self.low > 0 or self.high < 0:
            improved = (self.diff > 0) == self.a.higher_is_better
            return "better" if improved else "worse"
        return "unclear"

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {
            "suite": self.suite,
            "metric": self.a.name,
            "a": self.a.to_dict(),
            "b": self.b.to_dict(),
            "diff": round(self.diff, 4),
            "low": round(self.low, 4),
            "high": round(self.high, 4),
            "verdict": self.verdict,
        }


def load_report_json(path: Path) -> dict[str, Any]:
    """A run's ``report.json`` (``path`` is the file or the run's folder).

    Raises:
        InputError: missing or not a report.
    """
    file = path / "report.json" if path.is_dir() else path
    try:
        data = json.loads(file.read_text("utf-8"))
    except (OSError, ValueError) as exc:
        raise InputError(f"{file}: cannot read the run's report ({exc})") from None
    if not isinstance(data, dict) or not isinstance(data.get("suites"), list):
        raise InputError(f"{file}: not a bastion eval report")
    return data


def _metrics(report: dict[str, Any]) -> dict[tuple[str, str], Metric]:
    """Each suite's metrics; rates rebuilt as ``k / n`` with Wilson intervals, so a report
    written with another interval convention compares under this one."""
    out: dict[tuple[str, str], Metric] = {}
    for suite in report["suites"]:
        for m in suite.get("metrics", []) if isinstance(suite, dict) else []:
            try:
                metric = with_wilson(metric_from_dict(m))
            except (KeyError, TypeError, ValueError):
                continue
            out[(str(suite.get("suite")), metric.name)] = metric
    return out


def compare_reports(a: dict[str, Any], b: dict[str, Any]) -> tuple[MetricDiff, ...]:
    """Every metric both runs measured (with samples), in run A's order."""
    left, right = _metrics(a), _metrics(b)
    diffs = []
    for key, ma in left.items():
        mb = right.get(key)
        if mb is None or ma.n == 0 or mb.n == 0:
            continue
        diff, low, high = metric_difference(ma, mb)
        diffs.append(MetricDiff(key[0], ma, mb, diff, low, high))
    return tuple(diffs)


def metric_difference(a: Metric, b: Metric) -> tuple[float, float, float]:
    """``(b - a, low, high)``: Newcombe for two rates, MOVER over the metrics' own
    intervals otherwise."""
    ka, kb = metric_counts(a), metric_counts(b)
    if ka is not None and kb is not None:
        return newcombe_difference(ka, a.n, kb, b.n)
    return mover_difference(a.value, (a.low, a.high), b.value, (b.low, b.high))


def comparison_markdown(a: dict[str, Any], b: dict[str, Any], diffs: tuple[MetricDiff, ...]) -> str:
    """The comparison as a Markdown table."""
    from bastion.eval.report import fmt

    lines = [
        f"# bastion eval compare: A `{a.get('target')}` vs B `{b.get('target')}`",
        "",
        f"A: run `{a.get('run_id')}`; B: run `{b.get('run_id')}`. Rates with Wilson 95 % "
        "intervals; the difference B - A with Newcombe's 95 % interval of the difference "
        "(independent samples); better / worse only when that interval excludes 0.",
        "",
        "| suite | metric | A | B | B - A [95 % CI, Newcombe] | verdict |",
        "|---|---|---|---|---|---|",
    ]
    for d in diffs:
        lines.append(
            f"| {d.suite} | {d.a.name} | {fmt(d.a)} | {fmt(d.b)} | "
            f"{d.diff:+.3f} [{d.low:+.3f}, {d.high:+.3f}] | {d.verdict} |"
        )
    return "\n".join(lines) + "\n"
