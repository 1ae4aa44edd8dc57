"""Rich rendering of decisions and batch summaries (rich is imported when used)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from bastion.cli._common import printable

if TYPE_CHECKING:
    from rich.console import Console
    from rich.table import Table

    from bastion.batch import BatchSummary
    from bastion.core.verdict import Decision, Verdict

__all__ = [
    "ACTION_STYLE",
    "action_text",
    "decision_table",
    "print_decision",
    "summary_line",
    "verdict_table",
]

ACTION_STYLE = {
    "allow": "bold green",
    "caution": "bold yellow",
    "ask_context": "bold cyan",
    "refuse": "bold red",
}


def action_text(action: str) -> str:
    """The action as rich markup in its colour."""
    style = ACTION_STYLE.get(action, "bold")
    return f"[{style}]{action}[/]"


def _safe(text: str | None) -> str:
    from rich.markup import escape

    return escape(printable(text)) if text else "-"


def decision_table(decision: Decision) -> Table:
    """Field/value table of a decision; user-derived text is escaped, not interpreted."""
    from rich.table import Table

    table = Table(show_header=False, box=None, pad_edge=False)
    table.add_column("field", style="dim", no_wrap=True)
    table.add_column("value", overflow="fold")
    table.add_row("action", action_text(decision.action.value))
    table.add_row("review", "[bold magenta]yes[/]" if decision.review else "no")
    table.add_row("score", f"{decision.score:.2f}")
    table.add_row("category", _safe(decision.category))
    table.add_row("limit", decision.limit.value)
    table.add_row("context", _safe(decision.context))
    table.add_row("techniques", _safe(", ".join(decision.techniques)))
    table.add_row("layer", _safe(decision.layer))
    table.add_row("explanation", _safe(decision.explanation))
    table.add_row("alternative", _safe(decision.alternative))
    if decision.guidance:
        table.add_row("guidance", _safe("\n".join(decision.guidance)))
    for view in decision.decoded:
        table.add_row(f"decoded ({_safe(view.method)})", _safe(view.text[:500]))
    if decision.response_refusal is not None or decision.response_harmful is not None:
        table.add_row("reply refusal", _yes_no(decision.response_refusal))
        table.add_row("reply harmful", _yes_no(decision.response_harmful))
    if decision.error:
        table.add_row("error", f"[red]{_safe(decision.error)}[/]")
    table.add_row("policy", _safe(decision.policy))
    return table


def _yes_no(value: bool | None) -> str:
    return "-" if value is None else ("yes" if value else "no")


def verdict_table(verdicts: Iterable[Verdict]) -> Table:
    """One row per layer verdict, in the order the layers ran."""
    from rich.table import Table

    table = Table(title="layer verdicts", title_justify="left", title_style="bold")
    for name in ("layer", "score", "category", "techniques", "ms", "error"):
        table.add_column(
            name, overflow="fold", justify="right" if name in ("score", "ms") else "left"
        )
    for verdict in verdicts:
        table.add_row(
            _safe(verdict.layer),
            f"{verdict.score:.2f}",
            _safe(verdict.category),
            _safe(", ".join(verdict.techniques)),
            f"{verdict.latency_ms:.1f}",
            _safe(verdict.error),
        )
    return table


def print_decision(console: Console, decision: Decision) -> None:
    """The decision table, then the per-layer verdicts."""
    console.print(decision_table(decision))
    if decision.verdicts:
        console.print()
        console.print(verdict_table(decision.verdicts))


def summary_line(summary: BatchSummary, dest: str) -> str:
    """One plain line: rows, actions, bad rows, throughput."""
    actions = ", ".join(f"{count:,} {name}" for name, count in sorted(summary.by_action.items()))
    return (
        f"{summary.rows:,} rows -> {printable(dest)}: {actions or 'none decided'}; "
        f"{summary.review:,} for review; {summary.bad:,} bad; "
        f"{summary.rows_per_second:,.1f} rows/s in {summary.seconds:.1f} s"
    )
