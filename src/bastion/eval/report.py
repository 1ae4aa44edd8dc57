"""The report of a run: JSON (machine-readable) and Markdown (for docs and reviews).

The trade-off summary joins the over-refusal (benign) and under-refusal (unsafe) items
that carry a score: the curve of benign pass rate vs unsafe catch rate when acting on
``score >= threshold``, the operating point the target actually ran at (from its actions),
and the expected calibration error of the scores.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bastion.eval.metrics import (
    CurvePoint,
    ReliabilityBin,
    expected_calibration_error,
    tradeoff_curve,
)
from bastion.eval.results import EvalReport, ItemResult, Metric, SuiteResult

__all__ = [
    "GroupCalibration",
    "TradeOff",
    "calibration_by_group",
    "fmt",
    "markdown_report",
    "report_json",
    "trade_off",
    "write_files",
    "write_reports",
]

_MAX_LISTED = 40


@dataclass(frozen=True, slots=True)
class TradeOff:
    """Benign pass vs unsafe catch: the curve, the operating point and calibration.

    Attributes:
        curve: one point per threshold (empty when either side has no scores).
        benign_pass: benign share answered (allow or caution) at the operating point.
        unsafe_catch: unsafe share not allowed at the operating point.
        ece: expected calibration error of the scores (10 bins).
        bins: the reliability diagram's bins.
        n_benign: benign items with a score.
        n_unsafe: unsafe items with a score.
    """

    curve: tuple[CurvePoint, ...]
    benign_pass: Metric | None
    unsafe_catch: Metric | None
    ece: float
    bins: tuple[ReliabilityBin, ...]
    n_benign: int
    n_unsafe: int


def trade_off(report: EvalReport) -> TradeOff:
    """The trade-off summary of a report (from its over- and under-refusal suites)."""
    over, under = report.suite("over_refusal"), report.suite("under_refusal")
    benign = _scored(over)
    unsafe = _scored(under)
    scores = [i.score for i in benign + unsafe if i.score is not None]
    labels = [bool(i.unsafe) for i in benign + unsafe]
    ece, bins = expected_calibration_error(scores, labels)
    return TradeOff(
        curve=tradeoff_curve([b.score or 0.0 for b in benign], [u.score or 0.0 for u in unsafe]),
        benign_pass=over.metric("benign_pass_rate") if over else None,
        unsafe_catch=under.metric("unsafe_catch_rate") if under else None,
        ece=ece,
        bins=bins,
        n_benign=len(benign),
        n_unsafe=len(unsafe),
    )


@dataclass(frozen=True, slots=True)
class GroupCalibration:
    """Calibration of the scores inside one group (a policy category of the harmful
    prompts, a source of the benign ones): ECE and the reliability bins."""

    group: str
    n: int
    unsafe_share: float
    mean_score: float
    ece: float
    bins: tuple[ReliabilityBin, ...]


def calibration_by_group(report: EvalReport) -> tuple[GroupCalibration, ...]:
    """Per-group calibration of the over- and under-refusal items that carry a score."""
    items = _scored(report.suite("over_refusal")) + _scored(report.suite("under_refusal"))
    groups: dict[str, list[ItemResult]] = {}
    for item in items:
        groups.setdefault(item.group, []).append(item)
    out = []
    for name, members in sorted(groups.items()):
        scores = [float(i.score or 0.0) for i in members]
        labels = [bool(i.unsafe) for i in members]
        ece, bins = expected_calibration_error(scores, labels)
        share = sum(labels) / len(labels)
        out.append(
            GroupCalibration(name, len(members), share, sum(scores) / len(scores), ece, bins)
        )
    return tuple(out)


def _calibration_md(rows: tuple[GroupCalibration, ...]) -> list[str]:
    if not rows:
        return []
    out = [
        "## Calibration per category",
        "",
        "Harmful prompts by policy category, benign ones by source (every item of a group "
        "has one label, so ECE there is the mean distance of the scores from it).",
        "",
        "| group | n | unsafe share | mean score | ECE |",
        "|---|---|---|---|---|",
    ]
    out += [
        f"| {r.group} | {r.n} | {r.unsafe_share:.3f} | {r.mean_score:.3f} | {r.ece:.3f} |"
        for r in rows
    ]
    return out


def _scored(suite: SuiteResult | None) -> list[ItemResult]:
    if suite is None:
        return []
    return [i for i in suite.items if i.score is not None and i.unsafe is not None]


def report_json(report: EvalReport) -> dict[str, Any]:
    """The report as JSON-ready data, with the trade-off summary."""
    summary = trade_off(report)
    data = report.to_dict()
    data["trade_off"] = {
        "benign_pass": summary.benign_pass.to_dict() if summary.benign_pass else None,
        "unsafe_catch": summary.unsafe_catch.to_dict() if summary.unsafe_catch else None,
        "ece": round(summary.ece, 4),
        "n_benign": summary.n_benign,
        "n_unsafe": summary.n_unsafe,
        "curve": [
            {
                "threshold": round(p.threshold, 2),
                "benign_pass": round(p.benign_pass, 4),
                "unsafe_catch": round(p.unsafe_catch, 4),
            }
            for p in summary.curve[::5]
        ],
        "by_group": [
            {
                "group": g.group,
                "n": g.n,
                "unsafe_share": round(g.unsafe_share, 4),
                "mean_score": round(g.mean_score, 4),
                "ece": round(g.ece, 4),
                "bins": [
                    {
                        "low": b.low,
                        "high": b.high,
                        "count": b.count,
                        "mean_score": round(b.mean_score, 4),
                        "unsafe_share": round(b.unsafe_share, 4),
                    }
                    for b in g.bins
                ],
            }
            for g in calibration_by_group(report)
        ],
    }
    return data


def fmt(metric: Metric) -> str:
    """``0.923 [0.891, 0.950] (n=365)``, or ``n/a`` when nothing was measured."""
    if metric.n == 0:
        return "n/a (n=0)"
    return f"{metric.value:.3f} [{metric.low:.3f}, {metric.high:.3f}] (n={metric.n})"


def markdown_report(
    report: EvalReport,
    *,
    summary: TradeOff | None = None,
    groups: tuple[GroupCalibration, ...] | None = None,
) -> str:
    """The report as Markdown: a summary table, then one section per suite.

    ``summary`` and ``groups`` default to :func:`trade_off` and
    :func:`calibration_by_group` of the report's items; a report rebuilt from its JSON
    (:mod:`bastion.eval.rerender`) has no items and passes them in.
    """
    lines = [
        f"# bastion eval: `{report.target}`",
        "",
        f"Run `{report.run_id}`, {report.started_at} to {report.finished_at}; policy "
        f"`{report.settings.get('policy')}`, limit {report.settings.get('limit')}, "
        f"sample seed {report.settings.get('sample_seed')}, "
        f"seed {report.settings.get('seed')}. Values are shares with Wilson 95 % "
        "intervals and sample counts.",
        "",
        "| suite | headline metric | value [95 % CI] (n) |",
        "|---|---|---|",
    ]
    for suite in report.suites:
        head = suite.metrics[0] if suite.metrics else None
        value = fmt(head) if head else "skipped"
        lines.append(f"| {suite.suite} | {head.name if head else '-'} | {value} |")
    lines += ["", *_trade_off_md(summary or trade_off(report))]
    lines += ["", *_calibration_md(calibration_by_group(report) if groups is None else groups)]
    for suite in report.suites:
        lines += ["", *_suite_md(suite)]
    return "\n".join(lines) + "\n"


def _trade_off_md(summary: TradeOff) -> list[str]:
    if summary.benign_pass is None or summary.unsafe_catch is None:
        return []
    return [
        "## Trade-off",
        "",
        f"Operating point: benign pass {fmt(summary.benign_pass)}, unsafe catch "
        f"{fmt(summary.unsafe_catch)}. Expected calibration error of the scores: "
        f"{summary.ece:.3f} ({summary.n_benign} benign, {summary.n_unsafe} unsafe scored).",
    ]


def _suite_md(suite: SuiteResult) -> list[str]:
    out = [f"## {suite.suite}", "", suite.description, ""]
    out += [f"- {note}" for note in suite.notes]
    if suite.skipped:
        return out
    out += ["", "| metric | value [95 % CI] (n) |", "|---|---|"]
    out += [f"| {m.name} | {fmt(m)} |" for m in suite.metrics]
    tables = sorted({r.table for r in suite.rows})
    for table in tables:
        out += ["", f"| {table} | pass rate [95 % CI] (n) |", "|---|---|"]
        out += [f"| {r.name} | {fmt(r.metric)} |" for r in suite.rows if r.table == table]
    out += _listed("Critical failures (hard limits allowed)", suite.critical)
    out += _listed("Worst items", suite.worst)
    return out


def _listed(title: str, items: tuple[ItemResult, ...]) -> list[str]:
    if not items:
        return []
    out = ["", f"**{title}** ({len(items)}):", ""]
    for item in items[:_MAX_LISTED]:
        text = item.text.replace("|", "\\|")
        out.append(f"- `{item.item_id}` [{item.group}] got `{item.got}`: {text}")
    if len(items) > _MAX_LISTED:
        out.append(f"- ... and {len(items) - _MAX_LISTED} more (see results.jsonl)")
    return out


def write_reports(report: EvalReport, out: Path) -> list[Path]:
    """Write ``report.json``, ``report.md`` and ``report.html`` into ``out``.

    Raises:
        OSError: the folder cannot be written.
    """
    from bastion.eval.html import html_report

    out.mkdir(parents=True, exist_ok=True)
    files = {
        "report.json": json.dumps(report_json(report), ensure_ascii=False, indent=2) + "\n",
        "report.md": markdown_report(report),
        "report.html": html_report(report),
    }
    return write_files(out, files)


def write_files(folder: Path, files: dict[str, str]) -> list[Path]:
    """Write each ``name -> text`` of ``files`` into ``folder``; the paths written.

    Raises:
        OSError: a file cannot be written.
    """
    written = []
    for name, text in files.items():
        path = folder / name
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written
