"""``bastion layers``: the registered guard layers."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from bastion.cli._common import clean_errors, json_text, stdout_console

__all__ = ["layers"]


@clean_errors
def layers(as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False) -> None:
    """List the registered layers (built in and from installed plugins)."""
    from bastion.guard import build_layer_registry

    entries: list[dict[str, Any]] = [
        {"name": e.name, "tier": e.tier, "description": e.description}
        for e in build_layer_registry()
    ]
    if as_json:
        typer.echo(json_text(entries))
        return
    from rich.markup import escape
    from rich.table import Table

    table = Table(title="layers", title_justify="left")
    for column in ("name", "tier", "description"):
        table.add_column(column, overflow="fold")
    for entry in entries:
        table.add_row(escape(entry["name"]), str(entry["tier"]), escape(entry["description"]))
    stdout_console().print(table)
