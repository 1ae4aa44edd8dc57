"""The curation report: ``report.json`` (one record), ``report.md`` and ``report.html``.

All three are drawn from one JSON-ready *view* of a :class:`CurationSummary`
(:func:`report_view`): the tables, the score histograms (bins over [0, 1] for probability
scores, bins over the first scores' range for other scales) and the duplicate-cluster size
distribution. The view is the payload of the ``curation_report`` record in
``report.json``, so a dashboard or a later comparison reads the same numbers the HTML
shows. The raw cluster counter and the score samples stay in the summary (the view has
their distributions), so the report stays small for a corpus of millions of rows.
Every file is written to a temporary name and renamed, so a crash never leaves half a
report. An empty summary (no rows) gives a valid report that says so.
"""

from __future__ import annotations

import heapq
import math
import os
from dataclasses import dataclass
from html import escape
from pathlib import Path
from typing import Any

from bastion.curate.summary_model import SCORE_BINS, CurationSummary, SampleTable, ScoreStats
from bastion.records import Clock, RecordKind, new_record, record_line, utc_now

__all__ = [
    "REPORT_FORMAT",
    "ReportFiles",
    "markdown_report",
    "report_view",
    "write_report",
]

REPORT_FORMAT = "bastion.curation_report"
_LARGEST_CLUSTERS = 10
_ACTION_ORDER = {"drop": 0, "flag": 1, "redact": 2, "keep": 3}


@dataclass(frozen=True, slots=True)
class ReportFiles:
    """Where :func:`write_report` wrote the report."""

    json: Path
    markdown: Path
    html: Path


def write_report(
    summary: CurationSummary,
    out_dir: Path,
    *,
    title: str,
    meta: dict[str, Any],
    clock: Clock = utc_now,
) -> ReportFiles:
    """Write ``report.json``, ``report.md`` and ``report.html`` into ``out_dir``.

    Args:
        summary: the run's (merged) summary.
        out_dir: the run's output folder (created if missing).
        title: the report's heading.
        meta: JSON-ready facts about the run (source, policy, engine, seconds...); added
            to the summary's own meta.
        clock: the record's clock (inject a fake one in tests).

    Raises:
        RecordError: ``meta`` is not JSON-serialisable.
    """
    from bastion.curate.report_html import html_report

    view = report_view(summary, title=title, meta=meta)
    out_dir.mkdir(parents=True, exist_ok=True)
    files = ReportFiles(out_dir / "report.json", out_dir / "report.md", out_dir / "report.html")
    _publish(files.json, record_line(new_record(RecordKind.CURATION_REPORT, view, clock=clock)))
    _publish(files.markdown, markdown_report(view).encode("utf-8", "backslashreplace"))
    _publish(files.html, html_report(view).encode("utf-8", "backslashreplace"))
    return files


def report_view(summary: CurationSummary, *, title: str, meta: dict[str, Any]) -> dict[str, Any]:
    """The report's tables and distributions, JSON-ready (the ``report.json`` payload)."""
    return {
        "format": REPORT_FORMAT,
        "version": 1,
        "title": title,
        "meta": {**summary.meta, **meta},
        "totals": summary.totals.model_dump(),
        "stages": [
            {
                "stage": name,
                **stats.model_dump(include={"seen", "kept", "dropped", "flagged", "redacted"}),
                "drop_share": round(stats.dropped / stats.seen, 4) if stats.seen else 0.0,
            }
            for name, stats in summary.stages.items()
        ],
        "reasons": _reasons(summary),
        "harm": sorted(
            ({"category": k, **v.model_dump()} for k, v in summary.harm.items()),
            key=lambda row: (-row["removed"], -row["flagged"], row["category"]),
        ),
        "languages": sorted(
            ({"language": k, **v.model_dump()} for k, v in summary.languages.items()),
            key=lambda row: (-row["kept"] - row["removed"], row["language"]),
        ),
        "scores": {name: _histogram(stats.scores) for name, stats in summary.stages.items()},
        "duplicates": _duplicates(summary),
        "removed_samples": _samples(summary.removed_samples),
        "flagged_samples": _samples(summary.flagged_samples),
        "errors": [error.model_dump() for error in summary.error_samples],
    }


def _publish(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def _reasons(summary: CurationSummary) -> list[dict[str, Any]]:
    rows = [
        {"stage": stage, "action": action, "reason": reason, "rows": count}
        for stage, stats in summary.stages.items()
        for action, table in stats.reasons.items()
        for reason, count in table.items()
    ]
    order = {stage: index for index, stage in enumerate(summary.stages)}
    return sorted(
        rows,
        key=lambda r: (order[r["stage"]], _ACTION_ORDER.get(r["action"], 9), -r["rows"]),
    )


def _histogram(stats: ScoreStats) -> dict[str, Any]:
    """Bins of a stage's scores: the exact [0, 1] bins, or bins over the sample's range."""
    out: dict[str, Any] = {
        "count": stats.count,
        "non_finite": stats.non_finite,
        "low": stats.low,
        "high": stats.high,
        "exact": stats.bounded,
        "binned": stats.count if stats.bounded else len(stats.sample),
    }
    if stats.count == 0:
        return {**out, "edges": [], "counts": []}
    if stats.bounded:
        return {
            **out,
            "edges": [i / SCORE_BINS for i in range(SCORE_BINS + 1)],
            "counts": [*stats.bins],
        }
    low, high = min(stats.sample), max(stats.sample)
    if high <= low:  # one value: one bin around it
        return {**out, "edges": [low - 0.5, low + 0.5], "counts": [len(stats.sample)]}
    width = high / SCORE_BINS - low / SCORE_BINS  # never overflows, even near float max
    counts = [0] * SCORE_BINS
    for value in stats.sample:
        counts[min(max(int(value / width - low / width), 0), SCORE_BINS - 1)] += 1
    edges = [low + i * width for i in range(SCORE_BINS)] + [high]
    return {**out, "edges": edges, "counts": counts}


def _duplicates(summary: CurationSummary) -> dict[str, Any]:
    sizes = summary.cluster_sizes()
    buckets: dict[str, int] = {}
    for size, clusters in sizes.items():
        label = _bucket(size)
        buckets[label] = buckets.get(label, 0) + clusters
    largest = heapq.nlargest(_LARGEST_CLUSTERS, summary.clusters.items(), key=lambda kv: kv[1])
    return {
        "rows": sum(size * n for size, n in sizes.items()),
        "unique": sizes.get(1, 0),
        "clusters": sum(n for size, n in sizes.items() if size > 1),
        "duplicate_rows": sum((size - 1) * n for size, n in sizes.items() if size > 1),
        "sizes": [{"size": label, "clusters": n} for label, n in buckets.items()],
        "largest": [{"cluster": key, "rows": n} for key, n in largest if n > 1],
    }


def _bucket(size: int) -> str:
    """``1``, ``2``, ``3-4``, ``5-8``, ``9-16``...: powers of two, so a log axis reads."""
    if size <= 2:
        return str(size)
    top = 1 << math.ceil(math.log2(size))
    return f"{top // 2 + 1}-{top}"


def _samples(samples: SampleTable) -> list[dict[str, Any]]:
    return [
        {"stage": stage, "reason": reason, "rows": [row.model_dump() for row in rows]}
        for stage, reasons in samples.items()
        for reason, rows in reasons.items()
    ]


def markdown_report(view: dict[str, Any]) -> str:
    """The report's tables as Markdown (cells escaped: rows may hold any text)."""
    totals = view["totals"]
    lines = [f"# {_md(view['title'])}", ""]
    lines += [f"- {_md(key)}: {_md(value)}" for key, value in view["meta"].items()]
    lines += ["", "## Totals", ""]
    if not totals["rows"]:
        lines += ["No rows were read.", ""]
    rows = totals["rows"] or 1
    lines += _table(
        ("", "rows", "share"),
        [(key, f"{n:,}", f"{100 * n / rows:.1f} %") for key, n in totals.items()],
    )
    stage_rows = [
        (*(s[k] for k in ("stage", "seen", "kept", "dropped", "flagged", "redacted")),
         f"{100 * s['drop_share']:.1f} %")
        for s in view["stages"]
    ]  # fmt: skip
    lines += _section(
        "Stages",
        ("stage", "seen", "kept", "dropped", "flagged", "redacted", "drop share"),
        stage_rows,
        "No stage gave a verdict (no rows).",
    )
    lines += _section(
        "Reasons",
        ("stage", "action", "reason", "rows"),
        [(r["stage"], r["action"], r["reason"], r["rows"]) for r in view["reasons"]],
        "No row was removed, flagged or redacted.",
    )
    lines += _section(
        "Harm categories",
        ("category", "removed", "flagged"),
        [(h["category"], h["removed"], h["flagged"]) for h in view["harm"]],
        "The harm stage removed or flagged no rows.",
    )
    lines += _section(
        "Languages",
        ("language", "kept", "removed"),
        [(g["language"], g["kept"], g["removed"]) for g in view["languages"]],
        "No language verdicts (no rows, or the language stage is off).",
    )
    lines += _duplicates_md(view["duplicates"])
    lines += _section(
        "Unreadable rows (first ones)",
        ("shard", "line", "error", "excerpt"),
        [(e["shard"], e["line"], e["message"], e["excerpt"]) for e in view["errors"]],
        "Every row could be read.",
    )
    return "\n".join(lines) + "\n"


def _duplicates_md(dup: dict[str, Any]) -> list[str]:
    if not dup["rows"]:
        return ["## Duplicates", "", "No duplicate verdicts (no rows, or dedup is off).", ""]
    head = [
        "## Duplicates",
        "",
        f"{dup['rows']:,} rows checked: {dup['unique']:,} unique, {dup['clusters']:,} "
        f"clusters of copies holding {dup['duplicate_rows']:,} extra copies.",
        "",
    ]
    return head + _table(
        ("cluster size", "clusters"), [(s["size"], s["clusters"]) for s in dup["sizes"]]
    )


def _section(
    heading: str, header: tuple[str, ...], rows: list[tuple[Any, ...]], empty: str
) -> list[str]:
    body = _table(header, rows) if rows else [empty, ""]
    return [f"## {heading}", "", *body]


def _table(header: tuple[str, ...], rows: list[tuple[Any, ...]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(_md(cell) for cell in row) + " |" for row in rows]
    return [*lines, ""]


def _md(value: object) -> str:
    """A Markdown table cell: HTML escaped, pipes escaped, on one line."""
    text = escape(str(value), quote=False).replace("|", "\\|")
    return " ".join(text.split())
