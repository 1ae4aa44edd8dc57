"""``bastion policy show | validate | explain``: read the policy without opening YAML."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from bastion.cli._common import clean_errors, json_text, printable, stdout_console
from bastion.core.errors import PolicyError

if TYPE_CHECKING:
    from rich.table import Table

    from bastion.policy import CategorySpec, Policy

__all__ = ["policy_app"]

policy_app = typer.Typer(
    help="Show, validate and explain the policy.", no_args_is_help=True, add_completion=False
)

PolicyFile = Annotated[
    Path | None, typer.Option("--policy", help="Policy YAML file (default: the packaged one).")
]


def _load(path: Path | None) -> Policy:
    from bastion.policy import load_policy

    return load_policy(path)


@policy_app.command("show")
@clean_errors
def show(
    policy: PolicyFile = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Every category with its limit and its action in each context."""
    loaded = _load(policy)
    if as_json:
        table = {
            cat_id: {
                "title": spec.title,
                "limit": spec.limit.value,
                "actions": {ctx: loaded.action_for(cat_id, ctx).value for ctx in loaded.contexts},
            }
            for cat_id, spec in loaded.categories.items()
        }
        typer.echo(json_text({"policy": loaded.ref, "categories": table}))
        return
    stdout_console().print(_show_table(loaded))


def _show_table(policy: Policy) -> Table:
    from rich.table import Table

    from bastion.cli.render import action_text
    from bastion.core.types import Limit

    table = Table(title=f"{policy.ref}: action per context", title_justify="left")
    table.add_column("category", no_wrap=True)
    table.add_column("limit")
    for context in policy.contexts:
        table.add_column(context, overflow="fold")
    for cat_id, spec in policy.categories.items():
        if spec.limit is Limit.ENCOURAGED:  # behaviours, not decisions: no action to show
            cells = ["[dim]guidance[/]"] * len(policy.contexts)
        else:
            cells = [action_text(policy.action_for(cat_id, c).value) for c in policy.contexts]
        table.add_row(cat_id, spec.limit.value, *cells)
    return table


@policy_app.command("validate")
@clean_errors
def validate(file: Annotated[Path, typer.Argument(help="Policy YAML file.")]) -> None:
    """Check a policy file; prints OK or the first problems (exit code 1)."""
    loaded = _load(file)
    typer.echo(
        f"OK: {printable(loaded.ref)}, {len(loaded.categories)} categories, "
        f"{len(loaded.contexts)} contexts"
    )


@policy_app.command("explain")
@clean_errors
def explain(
    category: Annotated[str, typer.Argument(help="Category id, e.g. cybersecurity.")],
    policy: PolicyFile = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Everything the policy says about one category."""
    loaded = _load(policy)
    spec = loaded.categories.get(category)
    if spec is None:
        known = ", ".join(loaded.categories)
        raise PolicyError(f"unknown category {category!r}; the policy has: {known}")
    actions = {ctx: loaded.action_for(category, ctx).value for ctx in loaded.contexts}
    if as_json:
        typer.echo(
            json_text(
                {"category": category, **spec.model_dump(mode="json"), "per_context": actions}
            )
        )
        return
    stdout_console().print(_explain_table(category, spec, actions))


def _explain_table(category: str, spec: CategorySpec, actions: dict[str, str]) -> Table:
    from rich.markup import escape
    from rich.table import Table

    from bastion.cli.render import action_text

    table = Table(
        title=f"{category}: {escape(spec.title)}", title_justify="left", show_header=False
    )
    table.add_column("field", style="dim", no_wrap=True)
    table.add_column("value", overflow="fold")
    table.add_row("limit", spec.limit.value)
    table.add_row("description", escape(spec.description))
    per_context = (f"{ctx}: {action_text(action)}" for ctx, action in actions.items())
    table.add_row("actions", "\n".join(per_context))
    table.add_row("review", spec.review.value)
    table.add_row("explanation", escape(spec.explanation))
    for name in ("alternative", "guidance"):
        value = getattr(spec, name)
        if value:
            table.add_row(name, escape(value))
    if spec.encourages:
        table.add_row("encourages", ", ".join(spec.encourages))
    return table
