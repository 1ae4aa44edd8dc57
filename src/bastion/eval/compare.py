"""Comparison of two runs: every shared metric, the difference B - A and its interval.

Runs are read from their ``report.json`` (the summary every run writes). A rate's
bootstrap distribution is ``Binomial(n, p) / n`` (see :mod:`bastion.eval.metrics`), so the
difference of two runs is bootstrapped by drawing both rates independently and
subtracting: a percentile 95 % interval of ``B - A``. A difference whose interval excludes
zero is marked ``better`` or ``worse`` by the metric's direction; otherwise ``unclear``.
The two runs are treated as independent samples, which is conservative when they asked
the same items.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from bastion.core.errors import InputError
from bastion.eval.metrics import BOOTSTRAP_SAMPLES
from bastion.eval.results import Metric

__all__ = ["MetricDiff", "compare_reports", "comparison_markdown", "load_report_json"]


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
    out: dict[tuple[str, str], Metric] = {}
    for suite in report["suites"]:
        for m in suite.get("metrics", []) if isinstance(suite, dict) else []:
            try:
                metric = Metric(
                    str(m["name"]),
                    float(m["value"]),
                    float(m["low"]),
                    float(m["high"]),
                    int(m["n"]),
                    bool(m.get("higher_is_better", True)),
                )
            except (KeyError, TypeError, ValueError):
                continue
            out[(str(suite.get("suite")), metric.name)] = metric
    return out


def compare_reports(
    a: dict[str, Any], b: dict[str, Any], *, seed: int = 0
) -> tuple[MetricDiff, ...]:
    """Every metric both runs measured (with samples), in run A's order."""
    left, right = _metrics(a), _metrics(b)
    rng = np.random.default_rng(seed)
    diffs = []
    for key, ma in left.items():
        mb = right.get(key)
        if mb is None or ma.n == 0 or mb.n == 0:
            continue
        draws = _draw(rng, mb) - _draw(rng, ma)
        low, high = np.percentile(draws, [2.5, 97.5])
        diffs.append(MetricDiff(key[0], ma, mb, mb.value - ma.value, float(low), float(high)))
    return tuple(diffs)


def _draw(rng: np.random.Generator, metric: Metric) -> np.ndarray:
    p = min(max(metric.value, 0.0), 1.0)
    return rng.binomial(metric.n, p, size=BOOTSTRAP_SAMPLES) / metric.n


def comparison_markdown(a: dict[str, Any], b: dict[str, Any], diffs: tuple[MetricDiff, ...]) -> str:
    """The comparison as a Markdown table."""
    from bastion.eval.report import fmt

    lines = [
        f"# bastion eval compare: A `{a.get('target')}` vs B `{b.get('target')}`",
        "",
        f"A: run `{a.get('run_id')}`; B: run `{b.get('run_id')}`. Difference B - A with a "
        "bootstrap 95 % interval (independent samples); better / worse only when the "
        "interval excludes 0.",
        "",
        "| suite | metric | A | B | B - A [95 % CI] | verdict |",
        "|---|---|---|---|---|---|",
    ]
    for d in diffs:
        lines.append(
            f"| {d.suite} | {d.a.name} | {fmt(d.a)} | {fmt(d.b)} | "
            f"{d.diff:+.3f} [{d.low:+.3f}, {d.high:+.3f}] | {d.verdict} |"
        )
    return "\n".join(lines) + "\n"
