"""The ``bastion`` typer app and its console entry point :func:`main`.

Only light modules are imported here; each command imports what it needs when it runs.
"""

from __future__ import annotations

from typing import Annotated

import typer

from bastion.cli.check import check
from bastion.cli.curate_cmd import curate
from bastion.cli.demo import demo
from bastion.cli.docs_cmd import docs_app
from bastion.cli.eval_cmd import eval_app
from bastion.cli.export_cmd import export_app
from bastion.cli.harden_cmd import harden
from bastion.cli.info import layers
from bastion.cli.oversight_cmd import audit_app, keys_app, review_app, users_app
from bastion.cli.policy_cmd import policy_app
from bastion.cli.redteam_cmd import redteam_app
from bastion.cli.reward_cmd import reward_app
from bastion.cli.serve_cmd import serve_app
from bastion.cli.splits_cmd import splits_app
from bastion.cli.train import train_app

__all__ = ["app", "main"]

app = typer.Typer(
    name="bastion",
    help="A layered, offline safety guard for LLM applications.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.command("check")(check)
app.add_typer(policy_app, name="policy")
app.command("layers")(layers)
app.command("demo")(demo)
app.add_typer(train_app, name="train")
app.add_typer(reward_app, name="reward")
app.add_typer(export_app, name="export")
app.add_typer(serve_app, name="serve")
app.add_typer(eval_app, name="eval")
app.add_typer(redteam_app, name="redteam")
app.add_typer(audit_app, name="audit")
app.add_typer(review_app, name="review")
app.add_typer(keys_app, name="keys")
app.add_typer(users_app, name="users")
app.command("harden")(harden)
app.command("curate")(curate)
app.add_typer(splits_app, name="splits")
app.add_typer(docs_app, name="docs")


def _print_version(value: bool) -> None:
    if value:
        from bastion import __version__

        typer.echo(f"bastion {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_print_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """bastion: check conversation turns against a policy you can read and change."""


def main() -> None:
    """Console entry point (``bastion``)."""
    app(prog_name="bastion")
