"""Reports rebuilt from a run's ``report.json``, without asking the target again.

A ``report.json`` keeps every metric's value and count but not the items (those are in
``results.jsonl``, often not kept). Every rate is ``k`` of ``n``, and its value carries four
decimals, so ``k = round(value * n)`` is exact for ``n`` up to 10,000: that is enough to
give every rate its Wilson interval again (:mod:`bastion.core.stats`) and render
``report.{json,md,html}`` anew, e.g. after a change of interval convention::

    from bastion.eval.rerender import rerender_reports
    rerender_reports(Path("docs/results/eval/guard"))

What cannot be rebuilt from the JSON stays as it was: a metric that is not ``k / n`` keeps
its stored interval, and the scores' trade-off curve, calibration bins and ECE are taken
from the JSON's ``trade_off`` (the overall reliability bins are summed from the per-group
bins; the curve has the 21 stored thresholds instead of 101).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from bastion.core.errors import InputError
from bastion.eval.metrics import CurvePoint, ReliabilityBin, proportion
from bastion.eval.report import GroupCalibration, TradeOff
from bastion.eval.results import CategoryRow, EvalReport, ItemResult, Metric, SuiteResult

__all__ = [
    "metric_counts",
    "metric_from_dict",
    "report_from_json",
    "rerender_json",
    "rerender_reports",
    "with_wilson",
]

_ROUNDING = 0.5e-4 + 1e-9  # a report's values carry four decimals


def metric_from_dict(data: dict[str, Any]) -> Metric:
    """The :class:`Metric` of a ``Metric.to_dict()`` (or of a category row's dict).

    Raises:
        KeyError, TypeError, ValueError: not a metric.
    """
    return Metric(
        str(data["name"] if "name" in data else data["metric"]),
        float(data["value"]),
        float(data["low"]),
        float(data["high"]),
        int(data["n"]),
        bool(data.get("higher_is_better", True)),
    )


def metric_counts(metric: Metric) -> int | None:
    """The ``k`` of a metric whose value is ``k / n`` (to four decimals), else None."""
    if metric.n <= 0 or not 0.0 <= metric.value <= 1.0:
        return None
    k = round(metric.value * metric.n)
    return k if abs(k / metric.n - metric.value) <= _ROUNDING else None


def with_wilson(metric: Metric) -> Metric:
    """A rate (``k / n``) with its value ``k / n`` and Wilson interval; others unchanged."""
    k = metric_counts(metric)
    if k is None:
        return metric
    return proportion(metric.name, k, metric.n, higher_is_better=metric.higher_is_better)


def _rerender_metric(data: dict[str, Any]) -> dict[str, Any]:
    fresh = with_wilson(metric_from_dict(data)).to_dict()
    return {**data, **{k: fresh[k] for k in ("value", "low", "high")}}


def rerender_json(data: dict[str, Any]) -> dict[str, Any]:
    """A copy of a ``report.json`` with every rate's interval recomputed (Wilson)."""
    out = json.loads(json.dumps(data))
    for suite in out["suites"]:
        suite["metrics"] = [_rerender_metric(m) for m in suite.get("metrics", [])]
        suite["rows"] = [_rerender_metric(r) for r in suite.get("rows", [])]
    trade = out.get("trade_off") or {}
    for key in ("benign_pass", "unsafe_catch"):
        if trade.get(key):
            trade[key] = _rerender_metric(trade[key])
    return dict(out)


def _item(data: dict[str, Any]) -> ItemResult:
    return ItemResult(
        str(data["suite"]),
        str(data["item_id"]),
        str(data["group"]),
        bool(data["passed"]),
        str(data["expected"]),
        str(data["got"]),
        str(data.get("text", "")),
        data.get("unsafe"),
        data.get("score"),
        bool(data.get("critical", False)),
    )


def _suite(data: dict[str, Any]) -> SuiteResult:
    rows = tuple(
        CategoryRow(str(r["table"]), str(r["name"]), with_wilson(metric_from_dict(r)))
        for r in data.get("rows", [])
    )
    return SuiteResult(
        suite=str(data["suite"]),
        description=str(data.get("description", "")),
        target=str(data.get("target", "")),
        metrics=tuple(with_wilson(metric_from_dict(m)) for m in data.get("metrics", [])),
        rows=rows,
        critical=tuple(_item(i) for i in data.get("critical", [])),
        worst=tuple(_item(i) for i in data.get("worst", [])),
        notes=tuple(str(n) for n in data.get("notes", [])),
        skipped=bool(data.get("skipped", False)),
    )


def _bins(data: list[dict[str, Any]]) -> tuple[ReliabilityBin, ...]:
    return tuple(
        ReliabilityBin(
            float(b["low"]),
            float(b["high"]),
            int(b["count"]),
            float(b["mean_score"]),
            float(b["unsafe_share"]),
        )
        for b in data
    )


def _groups(trade: dict[str, Any]) -> tuple[GroupCalibration, ...]:
    return tuple(
        GroupCalibration(
            str(g["group"]),
            int(g["n"]),
            float(g["unsafe_share"]),
            float(g["mean_score"]),
            float(g["ece"]),
            _bins(g.get("bins", [])),
        )
        for g in trade.get("by_group", [])
    )


def _overall_bins(groups: tuple[GroupCalibration, ...]) -> tuple[ReliabilityBin, ...]:
    """The reliability bins of all scored items: the groups partition them and every
    group uses the same equal-width bins, so counts add and means are count-weighted."""
    merged: dict[tuple[float, float], list[float]] = {}
    for group in groups:
        for b in group.bins:
            acc = merged.setdefault((b.low, b.high), [0.0, 0.0, 0.0])
            acc[0] += b.count
            acc[1] += b.count * b.mean_score
            acc[2] += b.count * b.unsafe_share
    return tuple(
        ReliabilityBin(low, high, int(c), s / c, u / c)
        for (low, high), (c, s, u) in sorted(merged.items())
        if c > 0
    )


def _trade_off(trade: dict[str, Any], groups: tuple[GroupCalibration, ...]) -> TradeOff:
    curve = tuple(
        CurvePoint(float(p["threshold"]), float(p["benign_pass"]), float(p["unsafe_catch"]))
        for p in trade.get("curve", [])
    )
    benign, unsafe = trade.get("benign_pass"), trade.get("unsafe_catch")
    return TradeOff(
        curve=curve,
        benign_pass=with_wilson(metric_from_dict(benign)) if benign else None,
        unsafe_catch=with_wilson(metric_from_dict(unsafe)) if unsafe else None,
        ece=float(trade.get("ece", 0.0)),
        bins=_overall_bins(groups),
        n_benign=int(trade.get("n_benign", 0)),
        n_unsafe=int(trade.get("n_unsafe", 0)),
    )


def report_from_json(
    data: dict[str, Any],
) -> tuple[EvalReport, TradeOff, tuple[GroupCalibration, ...]]:
    """The report of a ``report.json`` (without items), its trade-off summary and its
    per-group calibration, as the renderers take them; rates are rebuilt as ``k / n``
    with Wilson intervals (:func:`with_wilson`).

    Raises:
        InputError: not a bastion eval report.
    """
    try:
        report = EvalReport(
            run_id=str(data["run_id"]),
            target=str(data["target"]),
            settings=dict(data.get("settings") or {}),
            suites=tuple(_suite(s) for s in data["suites"]),
            started_at=str(data.get("started_at", "")),
            finished_at=str(data.get("finished_at", "")),
        )
        groups = _groups(data.get("trade_off") or {})
        return report, _trade_off(data.get("trade_off") or {}, groups), groups
    except (KeyError, TypeError, ValueError) as exc:
        raise InputError(f"not a bastion eval report ({exc!r})") from None


def rerender_reports(folder: Path) -> list[Path]:
    """Rewrite ``report.json``, ``report.md`` and ``report.html`` of a run's folder from
    its ``report.json``, every rate with its Wilson interval (no target is asked).

    Raises:
        InputError: no readable report in ``folder``.
        OSError: the folder cannot be written.
    """
    from bastion.eval.compare import load_report_json
    from bastion.eval.html import html_report
    from bastion.eval.report import markdown_report, write_files

    data = rerender_json(load_report_json(folder))
    report, summary, groups = report_from_json(data)
    files = {
        "report.json": json.dumps(data, ensure_ascii=False, indent=2) + "\n",
        "report.md": markdown_report(report, summary=summary, groups=groups),
        "report.html": html_report(report, summary=summary, groups=groups),
    }
    return write_files(folder, files)
