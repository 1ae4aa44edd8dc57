"""``bastion demo``: the guided tour of the guard on the embedded defaults."""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from bastion.cli._common import build_guard, clean_errors, json_text, printable, stdout_console
from bastion.core.errors import ConfigError

if TYPE_CHECKING:
    from rich.table import Table

    from bastion.core.verdict import Decision
    from bastion.guard import Guard

__all__ = ["TOUR_FILE", "Stop", "demo", "load_tour"]

TOUR_FILE = "tour.yaml"


@dataclass(frozen=True, slots=True)
class Stop:
    """One example of the tour: a turn to check and what the default policy should do."""

    title: str
    messages: str | list[dict[str, str]]
    context: str | None = None
    response: str | None = None
    expect: str | None = None


def load_tour() -> list[Stop]:
    """The tour shipped beside this module.

    Raises:
        ConfigError: the tour file is malformed (a packaging bug).
    """
    import yaml

    text = resources.files("bastion.cli").joinpath(TOUR_FILE).read_text("utf-8")
    data = yaml.safe_load(text)
    if not isinstance(data, list):
        raise ConfigError(f"{TOUR_FILE}: the tour must be a list of stops")
    return [_stop(entry, index) for index, entry in enumerate(data, start=1)]


def _stop(entry: Any, index: int) -> Stop:
    if not isinstance(entry, dict) or not ({"text", "messages"} & entry.keys()):
        raise ConfigError(f"{TOUR_FILE}: stop {index} needs a title and text or messages")
    messages = entry["messages"] if "messages" in entry else entry["text"]
    try:
        return Stop(
            title=str(entry["title"]),
            messages=messages,
            context=entry.get("context"),
            response=entry.get("response"),
            expect=entry.get("expect"),
        )
    except KeyError as exc:
        raise ConfigError(f"{TOUR_FILE}: stop {index} lacks {exc}") from None


def _run(guard: Guard, stop: Stop) -> Decision:
    if stop.response is None:
        return guard.check(stop.messages, context=stop.context)
    return guard.check_response(stop.messages, stop.response, context=stop.context)


@clean_errors
def demo(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    policy: Annotated[Path | None, typer.Option(help="Policy YAML file.")] = None,
    config: Annotated[Path | None, typer.Option(help="Guard configuration YAML file.")] = None,
) -> None:
    """Run the guard over a built-in tour of example turns and print what it decided."""
    with build_guard(config, policy) as guard:
        results = [(stop, _run(guard, stop)) for stop in load_tour()]
    if as_json:
        typer.echo(json_text([_as_dict(stop, decision) for stop, decision in results]))
        return
    stdout_console().print(_table(results))


def _as_dict(stop: Stop, decision: Decision) -> dict[str, Any]:
    return {
        "title": stop.title,
        "input": stop.messages,
        "context": decision.context,
        "response": stop.response,
        "expect": stop.expect,
        "decision": decision.to_dict(verdicts=False),
    }


def _shown_input(stop: Stop) -> str:
    if isinstance(stop.messages, str):
        text = stop.messages
    else:
        text = f"({len(stop.messages)} turns) {stop.messages[-1]['content']}"
    if stop.response is not None:
        text += f"\n-> reply: {stop.response}"
    return text if len(text) <= 160 else text[:159] + "…"


def _table(results: list[tuple[Stop, Decision]]) -> Table:
    from rich.markup import escape
    from rich.table import Table

    table = Table(title="bastion: a tour of the guard", title_justify="left", show_lines=True)
    table.add_column("#", justify="right")
    table.add_column("example", ratio=3, overflow="fold")
    table.add_column("context")
    table.add_column("decision", no_wrap=True)
    table.add_column("why", ratio=3, overflow="fold")
    for index, (stop, decision) in enumerate(results, start=1):
        table.add_row(
            str(index),
            f"[bold]{escape(stop.title)}[/]\n{escape(printable(_shown_input(stop)))}",
            decision.context,
            _decision_cell(stop, decision),
            escape(printable(_why(decision))),
        )
    return table


def _decision_cell(stop: Stop, decision: Decision) -> str:
    from bastion.cli.render import action_text

    lines = [action_text(decision.action.value)]
    if stop.expect is not None and stop.expect != decision.action.value:
        lines.append(f"[red]expected {stop.expect}[/]")
    if decision.category is not None:
        lines.append(f"{decision.category} ({decision.limit.value})")
    if decision.review:
        lines.append("[magenta]review[/]")
    if decision.response_harmful is not None:
        lines.append("reply harmful" if decision.response_harmful else "reply not harmful")
    if decision.response_refusal:
        lines.append("reply refuses")
    return "\n".join(lines)


def _why(decision: Decision) -> str:
    notes = [decision.explanation, *decision.guidance[:1]]
    if decision.techniques:
        notes.append("techniques: " + ", ".join(decision.techniques))
    return "\n".join(notes)
