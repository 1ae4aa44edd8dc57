"""``bastion policy show | validate | explain``: read the policy without opening YAML."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from bastion.cli._common import clean_errors, json_text, printable, stdout_console
from bastion.core.errors import PolicyError
from bastion.core.types import Intent

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
    """Every category with its code, limit, subcategories and its action per context for
    the policy's default intent (``bastion policy explain`` shows every intent)."""
    loaded = _load(policy)
    if as_json:
        table = {
            cat_id: {
                "title": spec.title,
                "code": spec.code,
                "limit": spec.limit.value,
                "subcategories": list(spec.subcategories),
                "actions": {
                    intent.value: {
                        ctx: loaded.action_for(cat_id, ctx, intent).value for ctx in loaded.contexts
                    }
                    for intent in Intent
                },
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

    intent = policy.default_intent.value
    table = Table(title=f"{policy.ref}: action per context (intent {intent})", title_justify="left")
    table.add_column("category", no_wrap=True)
    table.add_column("code")
    table.add_column("limit")
    for context in policy.contexts:
        table.add_column(context, overflow="fold")
    for cat_id, spec in policy.categories.items():
        if spec.limit is Limit.ENCOURAGED:  # behaviours, not decisions: no action to show
            cells = ["[dim]guidance[/]"] * len(policy.contexts)
        else:
            cells = [action_text(policy.action_for(cat_id, c).value) for c in policy.contexts]
        table.add_row(cat_id, spec.code or "", spec.limit.value, *cells)
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
    category: Annotated[
        str | None,
        typer.Argument(help="Category or subcategory id; omit for the category x intent table."),
    ] = None,
    policy: PolicyFile = None,
    context: Annotated[str, typer.Option(help="Context of the category x intent table.")] = (
        "general"
    ),
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """The category x intent table for one context, or everything about one category."""
    loaded = _load(policy)
    if category is None:
        if not loaded.has_context(context):
            raise PolicyError(
                f"unknown context {context!r}; the policy has: {', '.join(loaded.contexts)}"
            )
        grid = _grid(loaded, context)
        if as_json:
            typer.echo(json_text({"policy": loaded.ref, "context": context, "actions": grid}))
        else:
            stdout_console().print(_grid_table(loaded, context, grid))
        return
    spec = loaded.lookup.get(category)
    if spec is None:
        known = ", ".join(loaded.lookup)
        raise PolicyError(f"unknown category {category!r}; the policy has: {known}")
    actions = {
        intent.value: {
            ctx: loaded.action_for(category, ctx, intent).value for ctx in loaded.contexts
        }
        for intent in Intent
    }
    if as_json:
        typer.echo(
            json_text({"category": category, **spec.model_dump(mode="json"), "actions": actions})
        )
        return
    stdout_console().print(_explain_table(category, spec, actions))


def _grid(policy: Policy, context: str) -> dict[str, dict[str, str]]:
    from bastion.core.types import Limit

    return {
        name: {i.value: policy.action_for(name, context, i).value for i in Intent}
        for name, spec in policy.categories.items()
        if spec.limit is not Limit.ENCOURAGED
    }


def _grid_table(policy: Policy, context: str, grid: dict[str, dict[str, str]]) -> Table:
    from rich.table import Table

    from bastion.cli.render import action_text

    table = Table(title=f"{policy.ref}: category x intent in '{context}'", title_justify="left")
    table.add_column("category", no_wrap=True)
    table.add_column("code")
    for intent in Intent:
        table.add_column(intent.value)
    for name, row in grid.items():
        code = policy.categories[name].code or ""
        table.add_row(name, code, *(action_text(row[i.value]) for i in Intent))
    return table


def _explain_table(category: str, spec: CategorySpec, actions: dict[str, dict[str, str]]) -> Table:
    from rich.markup import escape
    from rich.table import Table

    from bastion.cli.render import action_text

    title = f"{category}: {escape(spec.title)}" + (f" ({spec.code})" if spec.code else "")
    table = Table(title=title, title_justify="left", show_header=False)
    table.add_column("field", style="dim", no_wrap=True)
    table.add_column("value", overflow="fold")
    table.add_row("limit", spec.limit.value)
    if spec.parent:
        table.add_row("category", spec.parent)
    if spec.subcategories:
        table.add_row("subcategories", ", ".join(spec.subcategories))
    table.add_row("description", escape(spec.description))
    for intent, row in actions.items():
        cells = (f"{ctx}: {action_text(action)}" for ctx, action in row.items())
        table.add_row(f"if {intent}", "  ".join(cells))
    table.add_row("review", spec.review.value)
    table.add_row("explanation", escape(spec.explanation))
    for name in ("alternative", "guidance"):
        value = getattr(spec, name)
        if value:
            table.add_row(name, escape(value))
    if spec.encourages:
        table.add_row("encourages", ", ".join(spec.encourages))
    return table


@policy_app.command("migrate")
@clean_errors
def migrate(
    file: Annotated[Path, typer.Argument(help="Policy YAML file (format 1).")],
    out: Annotated[Path | None, typer.Option(help="Write the format-2 file here.")] = None,
) -> None:
    """Rewrite a format-1 policy as format 2 (categories x intent), deciding as before."""
    import yaml

    from bastion.policy.loader import policy_data

    try:
        text = file.read_text("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise PolicyError(f"cannot read: {exc}", source=str(file)) from None
    data = policy_data(text, source=str(file))
    data.pop("migrated_from", None)
    _validate(data, str(file))
    rendered = "# migrated by `bastion policy migrate` from format 1\n" + yaml.safe_dump(
        data, sort_keys=False, allow_unicode=True, width=100
    )
    if out is None:
        typer.echo(rendered, nl=False)
        return
    out.write_text(rendered, "utf-8")
    typer.echo(f"wrote {printable(str(out))} (format 2, {len(data['categories'])} categories)")


def _validate(data: dict[str, object], source: str) -> None:
    from pydantic import ValidationError

    from bastion.policy import Policy as PolicyModel
    from bastion.policy.loader import describe_errors

    try:
        PolicyModel.model_validate(data)
    except ValidationError as exc:
        raise PolicyError(describe_errors(exc), source=source) from None
