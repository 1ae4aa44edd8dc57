"""A self-contained HTML report: tables plus matplotlib plots embedded as base64 PNG.

matplotlib is optional (the ``train`` extra); without it the report has the tables and a
note instead of the plots. Figures are drawn on the object API (``Figure``), never pyplot,
so nothing global is touched.
"""

from __future__ import annotations

import base64
import io
from html import escape
from typing import TYPE_CHECKING, Any

from bastion.eval.report import GroupCalibration, TradeOff, calibration_by_group, fmt, trade_off
from bastion.eval.results import EvalReport, ItemResult, SuiteResult

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["html_report"]

_STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;color:#222}"
    "table{border-collapse:collapse;margin:.5em 0 1em}td,th{border:1px solid #ccc;"
    "padding:3px 8px;text-align:left}th{background:#f3f3f3}.bad{color:#b00020}"
    "img{max-width:100%}.note{color:#555}"
)
_MAX_LISTED = 40


def html_report(
    report: EvalReport,
    *,
    summary: TradeOff | None = None,
    groups: tuple[GroupCalibration, ...] | None = None,
) -> str:
    """The whole report as one HTML document (no external files); ``summary`` and
    ``groups`` as in :func:`bastion.eval.report.markdown_report`."""
    summary = summary or trade_off(report)
    parts = [
        f"<h1>bastion eval: {escape(report.target)}</h1>",
        f"<p class='note'>Run {escape(report.run_id)}, {escape(report.started_at)} to "
        f"{escape(report.finished_at)}; policy {escape(str(report.settings.get('policy')))};"
        f" limit {escape(str(report.settings.get('limit')))}, sample seed"
        f" {escape(str(report.settings.get('sample_seed')))}. Shares with Wilson 95 % "
        "intervals and sample counts.</p>",
        *_plots(report, summary),
        _calibration_html(calibration_by_group(report) if groups is None else groups),
    ]
    parts += [_suite_html(suite) for suite in report.suites]
    body = "\n".join(parts)
    return (
        "<!doctype html><html><head><meta charset='utf-8'><title>bastion eval</title>"
        f"<style>{_STYLE}</style></head><body>{body}</body></html>\n"
    )


def _plots(report: EvalReport, summary: TradeOff) -> list[str]:
    try:
        from matplotlib.figure import Figure
    except ImportError:
        return ["<p class='note'>Plots need matplotlib (pip install 'bastion[train]').</p>"]
    out = ["<h2>Suites</h2>", _img(_metrics_figure(Figure, report))]
    if summary.curve:
        out += ["<h2>Trade-off and calibration</h2>", _img(_tradeoff_figure(Figure, summary))]
        out.append(
            f"<p>Operating point: benign pass {escape(_fmt(summary.benign_pass))}, unsafe "
            f"catch {escape(_fmt(summary.unsafe_catch))}; expected calibration error "
            f"{summary.ece:.3f}.</p>"
        )
    return out


def _calibration_html(groups: tuple[GroupCalibration, ...]) -> str:
    rows = [
        (g.group, f"n={g.n}, unsafe share {g.unsafe_share:.3f}, mean score {g.mean_score:.3f}, "
         f"ECE {g.ece:.3f}")
        for g in groups
    ]  # fmt: skip
    if not rows:
        return ""
    return "<h2>Calibration per category</h2>" + _table(("group", "calibration"), rows)


def _fmt(metric: Any) -> str:
    return fmt(metric) if metric is not None else "n/a"


def _img(figure: Figure) -> str:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100, bbox_inches="tight")
    data = base64.b64encode(buffer.getvalue()).decode("ascii")
    return f"<img alt='plot' src='data:image/png;base64,{data}'>"


def _metrics_figure(figure_cls: type[Figure], report: EvalReport) -> Figure:
    rows = [(f"{s.suite}: {m.name}", m) for s in report.suites for m in s.metrics if m.n]
    figure = figure_cls(figsize=(9, 0.32 * max(len(rows), 3) + 1))
    axes = figure.subplots()
    names = [name for name, _ in rows]
    values = [m.value for _, m in rows]
    errors = [[m.value - m.low for _, m in rows], [m.high - m.value for _, m in rows]]
    colours = ["#2e7d32" if m.higher_is_better else "#c62828" for _, m in rows]
    axes.barh(range(len(rows)), values, xerr=errors, color=colours, capsize=3)
    axes.set_yticks(range(len(rows)), names, fontsize=8)
    axes.invert_yaxis()
    axes.set_xlim(0, 1)
    axes.set_xlabel("share (green: higher is better; red: lower is better); bars: 95 % CI")
    return figure


def _tradeoff_figure(figure_cls: type[Figure], summary: TradeOff) -> Figure:
    figure = figure_cls(figsize=(10, 4))
    left, right = figure.subplots(1, 2)
    left.plot(
        [p.benign_pass for p in summary.curve],
        [p.unsafe_catch for p in summary.curve],
        marker=".",
        label="score >= threshold",
    )
    if summary.benign_pass is not None and summary.unsafe_catch is not None:
        left.plot(
            [summary.benign_pass.value],
            [summary.unsafe_catch.value],
            "r*",
            markersize=14,
            label="operating point (actions)",
        )
    left.set_xlabel("benign pass rate")
    left.set_ylabel("unsafe catch rate")
    left.set_xlim(0, 1.02)
    left.set_ylim(0, 1.02)
    left.legend(loc="lower left", fontsize=8)
    right.plot([0, 1], [0, 1], "k:", linewidth=1)
    right.plot([b.mean_score for b in summary.bins], [b.unsafe_share for b in summary.bins], "o-")
    right.set_xlabel("mean score (probability unsafe)")
    right.set_ylabel("observed unsafe share")
    right.set_title(f"reliability (ECE {summary.ece:.3f})", fontsize=9)
    return figure


def _suite_html(suite: SuiteResult) -> str:
    parts = [f"<h2>{escape(suite.suite)}</h2><p>{escape(suite.description)}</p><ul>"]
    parts += [f"<li class='note'>{escape(n)}</li>" for n in suite.notes]
    parts.append("</ul>")
    if suite.skipped:
        return "".join(parts)
    rows = [(m.name, fmt(m)) for m in suite.metrics]
    parts.append(_table(("metric", "value [95 % CI] (n)"), rows))
    for table in sorted({r.table for r in suite.rows}):
        cells = [(r.name, fmt(r.metric)) for r in suite.rows if r.table == table]
        parts.append(_table((table, "pass rate [95 % CI] (n)"), cells))
    parts.append(_listed("Critical failures (hard limits allowed)", suite.critical))
    parts.append(_listed("Worst items", suite.worst))
    return "".join(parts)


def _table(head: tuple[str, str], rows: list[tuple[str, str]]) -> str:
    cells = "".join(f"<tr><td>{escape(a)}</td><td>{escape(b)}</td></tr>" for a, b in rows)
    return f"<table><tr><th>{escape(head[0])}</th><th>{escape(head[1])}</th></tr>{cells}</table>"


def _listed(title: str, items: tuple[ItemResult, ...]) -> str:
    if not items:
        return ""
    lines = "".join(
        f"<li><code>{escape(i.item_id)}</code> [{escape(i.group)}] got "
        f"<b>{escape(i.got)}</b>: {escape(i.text)}</li>"
        for i in items[:_MAX_LISTED]
    )
    more = len(items) - _MAX_LISTED
    extra = f"<li>... and {more} more (see results.jsonl)</li>" if more > 0 else ""
    return f"<h3 class='bad'>{escape(title)} ({len(items)})</h3><ul>{lines}{extra}</ul>"
