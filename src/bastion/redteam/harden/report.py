"""The hardening report: per-round table and plot, as JSON, Markdown and one HTML page."""

from __future__ import annotations

import base64
import html
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bastion.core.errors import RecordError
from bastion.redteam.harden.results import HardenResult, RoundResult
from bastion.redteam.report.figures import _png, _pyplot, have_matplotlib
from bastion.redteam.report.stats import Rate

__all__ = [
    "ROUND_COLUMNS",
    "HardenReportFiles",
    "harden_markdown",
    "round_cells",
    "rounds_png",
    "write_harden_report",
]


@dataclass(frozen=True, slots=True)
class HardenReportFiles:
    """Where the report went."""

    json: Path
    markdown: Path
    html: Path


def _cell(rate: Rate) -> str:
    low, high = rate.interval
    return f"{rate.asr:.1%} [{low:.0%}-{high:.0%}] ({rate.successes}/{rate.trials})"


def round_cells(r: RoundResult) -> list[str]:
    """One table row: the round's rates (with Wilson 95 % intervals), additions, time."""
    blocked = r.regression.get("blocked")
    regression = _cell(blocked) if blocked else "-"
    return [
        str(r.round),
        r.side,
        _cell(r.attacked),
        _cell(r.benign),
        _cell(r.lookalike),
        f"{r.train_goals} / {r.train_bypasses}" if r.round else "-",
        f"{r.added_unsafe} / {r.added_safe}",
        regression,
        f"{r.elapsed_s / 60:.1f}",
    ]


ROUND_COLUMNS = [
    "round",
    "split",
    "ASR",
    "benign pass",
    "look-alike pass",
    "train goals / bypasses",
    "added unsafe / safe",
    "regression blocked",
    "minutes",
]


def _all_rows(result: HardenResult) -> list[RoundResult]:
    return [*result.rounds, *([result.test] if result.test else [])]


def _headline(result: HardenResult) -> list[str]:
    """The kept guard on the test split (read once), or why there is no test figure."""
    if result.test is None:
        return ["Test split not measured: the figures below are dev figures (they chose)."]
    t = result.test
    return [
        f"Kept round {result.chosen}, measured once on the test split: "
        f"ASR {_cell(t.attacked)}, benign pass {_cell(t.benign)}, "
        f"look-alike pass {_cell(t.lookalike)}. Judge: the guard's own decision on goals "
        "harmful by construction (no reply is judged). Rounds were chosen on dev."
    ]


def harden_markdown(result: HardenResult) -> str:
    """The round table, why it stopped and which artifact was kept."""
    lines = ["# bastion harden", "", *_headline(result), ""]
    lines += ["| " + " | ".join(ROUND_COLUMNS) + " |", "|" + "---|" * len(ROUND_COLUMNS)]
    lines += ["| " + " | ".join(round_cells(r)) + " |" for r in _all_rows(result)]
    lines += ["", f"Stopped: {result.stop_reason}. Kept: round {result.chosen}.", ""]
    families = sorted({f for r in result.rounds for f in r.attacked_by_family})
    lines += [
        "## Dev ASR by family",
        "",
        "| family | " + " | ".join(f"round {r.round}" for r in result.rounds) + " |",
        "|---|" + "---|" * len(result.rounds),
    ]
    for family in families:
        cells = [
            f"{r.attacked_by_family[family].asr:.0%}" if family in r.attacked_by_family else "-"
            for r in result.rounds
        ]
        lines.append(f"| {family} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def rounds_png(result: HardenResult) -> bytes:
    """Fresh ASR and benign pass rates per round, with Wilson 95 % error bars."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6, 3.6))
    x = [r.round for r in result.rounds]
    series = (
        ("dev ASR (under-refusal)", [r.attacked for r in result.rounds], "#c0392b"),
        ("dev benign pass", [r.benign for r in result.rounds], "#2471a3"),
        ("dev look-alike pass (over-refusal)", [r.lookalike for r in result.rounds], "#27ae60"),
    )
    for label, rates, colour in series:
        low = [max(0.0, q.asr - q.interval[0]) for q in rates]
        high = [max(0.0, q.interval[1] - q.asr) for q in rates]
        y = [q.asr for q in rates]
        ax.errorbar(x, y, yerr=[low, high], label=label, color=colour, marker="o", capsize=3)
    ax.set_xticks(x)
    ax.set_ylim(0, 1.02)
    ax.set_xlabel("round (0 = starting guard)")
    ax.set_ylabel("rate")
    ax.set_title("bastion harden: dev attacks and benign traffic per round")
    ax.legend(fontsize=7, loc="center right")
    return _png(fig)


def _html(result: HardenResult) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in ROUND_COLUMNS)
    rows = "".join(
        "<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in round_cells(r)) + "</tr>"
        for r in _all_rows(result)
    )
    figure = ""
    if have_matplotlib():
        data = base64.b64encode(rounds_png(result)).decode()
        figure = f'<img alt="rates per round" src="data:image/png;base64,{data}">'
    headline = "".join(f"<p><b>{html.escape(line)}</b></p>" for line in _headline(result))
    note = html.escape(f"Stopped: {result.stop_reason}. Kept: round {result.chosen}.")
    style = "body{font-family:sans-serif;margin:2em}td,th{border:1px solid #ccc;padding:4px}"
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>bastion harden</title>"
        f"<style>{style}</style></head><body><h1>bastion harden</h1>{headline}{figure}"
        f"<table><tr>{head}</tr>{rows}</table><p>{note}</p></body></html>\n"
    )


def report_data(result: HardenResult) -> dict[str, Any]:
    """Everything in ``harden.json``."""
    return {
        "format": "bastion.harden_report/1",
        "rounds": [r.to_dict() for r in result.rounds],
        "stop_reason": result.stop_reason,
        "chosen_round": result.chosen,
        "test": result.test.to_dict() if result.test else None,
        "holdout": result.holdout,
    }


def write_harden_report(result: HardenResult, out: Path) -> HardenReportFiles:
    """Write ``harden.json``, ``harden.md`` and ``harden.html`` into ``out``.

    Raises:
        RecordError: the folder cannot be written.
    """
    files = HardenReportFiles(out / "harden.json", out / "harden.md", out / "harden.html")
    try:
        out.mkdir(parents=True, exist_ok=True)
        text = json.dumps(report_data(result), indent=2, ensure_ascii=False)
        files.json.write_text(text + "\n", encoding="utf-8")
        files.markdown.write_text(harden_markdown(result), encoding="utf-8")
        files.html.write_text(_html(result), encoding="utf-8")
    except OSError as exc:
        raise RecordError(f"{out}: cannot write the hardening report: {exc}") from None
    return files
