"""Red-team reports as JSON, Markdown and one self-contained HTML page.

:func:`write_report` reads a run's findings (and optionally a baseline run's) and writes
``report.json``, ``report.md`` and ``report.html`` (figures embedded as base64 PNG, no
external files or scripts).
"""

from __future__ import annotations

import base64
import html
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bastion.core.errors import RecordError
from bastion.redteam.findings import Finding
from bastion.redteam.report.figures import family_bars_png, have_matplotlib, heatmap_png
from bastion.redteam.report.judge_text import headline, judge_lines
from bastion.redteam.report.stats import Diff, Rate, Summary

__all__ = ["ReportFiles", "html_report", "markdown_report", "report_data", "write_report"]

_EXCERPT = 600
_FAMILIES_SHOWN = 12


@dataclass(frozen=True, slots=True)
class ReportFiles:
    """Where a report was written."""

    json: Path
    markdown: Path
    html: Path


def report_data(summary: Summary, diff: Diff | None) -> dict[str, Any]:
    """Everything in ``report.json``."""
    data: dict[str, Any] = {"format": "bastion.redteam_report/1", **summary.to_dict()}
    data["diff"] = diff.to_dict() if diff is not None else None
    return data


def _cell(rate: Rate) -> str:
    low, high = rate.interval
    errors = f", {rate.errors} err" if rate.errors else ""
    return f"{rate.asr:.0%} [{low:.0%}, {high:.0%}] ({rate.successes}/{rate.trials}{errors})"


def _cut(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= _EXCERPT else flat[: _EXCERPT - 1] + "…"


def _rate_table(title: str, rates: dict[str, Rate]) -> list[str]:
    lines = [f"### {title}", "", "| | ASR [95% CI] (successes/trials) |", "|---|---|"]
    lines += [f"| {name} | {_cell(rate)} |" for name, rate in rates.items()]
    return [*lines, ""]


def _grid(summary: Summary) -> list[str]:
    cats = list(summary.by_category)
    lines = ["### Family x category (ASR, n)", ""]
    lines += ["| family | " + " | ".join(cats) + " |", "|---" * (len(cats) + 1) + "|"]
    for fam, row in summary.by_family_category.items():
        cells = [f"{row[c].asr:.0%} ({row[c].trials})" if c in row else "" for c in cats]
        lines.append(f"| {fam} | " + " | ".join(cells) + " |")
    return [*lines, ""]


def _families_lines(summary: Summary) -> list[str]:
    """The jailbreak-template families each template attack sent, by pinned side."""
    if not summary.template_families:
        return []
    lines = ["### Template families sent", "", "| attack | families by side | families |"]
    lines.append("|---|---|---|")
    for attack, sent in summary.template_families.items():
        sides = ", ".join(f"{side} {n}" for side, n in sent["sides"].items())
        names = sorted(sent["families"])
        shown = ", ".join(f"`{n}`" for n in names[:_FAMILIES_SHOWN])
        more = f" and {len(names) - _FAMILIES_SHOWN} more" if len(names) > _FAMILIES_SHOWN else ""
        lines.append(f"| {attack} | {sides} | {shown}{more} |")
    note = "Only `attack`-side families are unseen by every detector (design note 0043)."
    return [*lines, "", note, ""]


def _example(finding: Finding) -> list[str]:
    lines = [f"**{finding.attack}** on `{finding.goal_id}` ({finding.note or 'success'})", ""]
    for turn in finding.turns:
        lines.append(f"- prompt ({turn.converter}): {_cut(turn.prompt)}")
        lines.append(f"  - reply: {_cut(turn.reply) or '(empty)'} — {turn.reason or turn.judge}")
    return [*lines, ""]


def _diff_lines(diff: Diff) -> list[str]:
    lines = ["## Difference from the baseline run", ""]
    lines += ["| family | baseline | this run | delta [95 % CI, Newcombe] |", "|---|---|---|---|"]
    for fam, (old, new) in diff.by_family.items():
        delta, low, high = diff.delta(fam)
        change = f"{delta:+.0%} [{low:+.0%}, {high:+.0%}]"
        lines.append(f"| {fam} | {_cell(old)} | {_cell(new)} | {change} |")
    lines += ["", f"Fixed pairs: {len(diff.fixed)}; newly successful pairs: {len(diff.broken)}."]
    lines += [f"- now succeeds: {a} on `{g}`" for a, g in diff.broken[:20]]
    return [*lines, ""]


def markdown_report(summary: Summary, diff: Diff | None) -> str:
    """The report as Markdown."""
    lines = [
        "# Red-team report",
        "",
        f"Targets: {', '.join(summary.targets)}; runs: {', '.join(summary.run_ids)}.",
        headline(_cell(summary.overall), summary.judge),
        "",
        *judge_lines(summary.judge),
        "## Attack success rates",
        "",
    ]
    lines += _rate_table("By technique family", summary.by_family)
    if summary.bypass_goals:
        title = f"Bypass rate: goals whose plain request failed ({summary.bypass_goals})"
        lines += _rate_table(title, summary.bypass_by_family)
    lines += _rate_table("By attack", summary.by_attack)
    lines += _families_lines(summary)
    lines += _rate_table("By category", summary.by_category)
    lines += _grid(summary)
    if diff is not None:
        lines += _diff_lines(diff)
    lines += ["## Example transcripts (successful attacks)", ""]
    for finding in summary.examples:
        lines += _example(finding)
    if not summary.examples:
        lines += ["No attack succeeded.", ""]
    return "\n".join(lines)


def html_report(summary: Summary, diff: Diff | None) -> str:
    """One self-contained HTML page: figures as base64 PNG, the Markdown body as text."""
    figures = ""
    if have_matplotlib() and summary.by_family:
        for png in (family_bars_png(summary), heatmap_png(summary)):
            data = base64.b64encode(png).decode("ascii")
            figures += f'<img alt="figure" src="data:image/png;base64,{data}">\n'
    body = html.escape(markdown_report(summary, diff))
    verdict = html.escape(headline(_cell(summary.overall), summary.judge).replace("**", ""))
    return (
        "<!DOCTYPE html>\n<html><head><meta charset='utf-8'><title>bastion red-team report"
        "</title><style>body{font-family:sans-serif;max-width:1100px;margin:2em auto}"
        "img{max-width:100%;display:block;margin:1em 0}pre{white-space:pre-wrap}</style>"
        f"</head><body><h1>bastion red-team report</h1>\n<p><strong>{verdict}</strong></p>\n"
        f"{figures}<pre>{body}</pre>"
        "</body></html>\n"
    )


def write_report(summary: Summary, diff: Diff | None, out_dir: Path) -> ReportFiles:
    """Write ``report.json``, ``report.md`` and ``report.html`` into ``out_dir``.

    Raises:
        RecordError: the folder cannot be written.
    """
    files = ReportFiles(out_dir / "report.json", out_dir / "report.md", out_dir / "report.html")
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        text = json.dumps(report_data(summary, diff), ensure_ascii=False, indent=2)
        files.json.write_text(text + "\n", encoding="utf-8", errors="backslashreplace")
        md = markdown_report(summary, diff)
        files.markdown.write_text(md + "\n", encoding="utf-8", errors="backslashreplace")
        page = html_report(summary, diff)
        files.html.write_text(page, encoding="utf-8", errors="backslashreplace")
    except OSError as exc:
        raise RecordError(f"{out_dir}: cannot write the report: {exc}") from None
    return files
