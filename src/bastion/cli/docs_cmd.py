"""``bastion docs``: render the results tables of docs/*.md from docs/results/ JSON."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from bastion.cli._common import clean_errors, exit_on_problems

__all__ = ["docs_app"]

docs_app = typer.Typer(
    help="Docs tables rendered from results JSON (docs/results/), never typed.",
    no_args_is_help=True,
)
_PATHS = typer.Argument(help="Markdown pages or folders (default: docs).")


@docs_app.command("render")
@clean_errors
def render(paths: Annotated[list[Path] | None, _PATHS] = None) -> None:
    """Re-render every results block from its JSON."""
    from bastion.published import render_docs

    changed = render_docs(paths or [Path("docs")])
    typer.echo(f"rendered {len(changed)} page(s)" + "".join(f"\n  {p}" for p in changed))


@docs_app.command("check")
@clean_errors
def check(paths: Annotated[list[Path] | None, _PATHS] = None) -> None:
    """Exit 1 when a results block differs from its JSON (run `bastion docs render`)."""
    from bastion.published import check_docs

    stale = check_docs(paths or [Path("docs")])
    problems = [f"{page}: results tables differ from their JSON" for page in stale]
    exit_on_problems(problems, "docs tables match their JSON")


@docs_app.command("add-run")
@clean_errors
def add_run(
    run_dir: Annotated[Path, typer.Argument(help="A `bastion redteam run` folder.")],
    name: Annotated[str, typer.Argument(help="docs/results/redteam/NAME.json")],
    label: Annotated[str, typer.Option(help="The run's name in the tables.")],
    results: Annotated[Path, typer.Option(help="Results folder.")] = Path("docs/results"),
) -> None:
    """Publish a red-team run's report as results JSON (then `bastion docs render`)."""
    from bastion.published.runs import write_published_run

    path = write_published_run(run_dir, results / "redteam" / f"{name}.json", label)
    typer.echo(f"wrote {path}")
