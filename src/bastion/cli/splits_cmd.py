"""``bastion splits``: the pinned train / dev / test manifest (:mod:`bastion.redteam.splits`)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from bastion.cli._common import (
    DEFAULT_SHARED_DATA,
    SharedData,
    clean_errors,
    exit_on_problems,
)

__all__ = ["splits_app"]

splits_app = typer.Typer(
    help="The pinned train / dev / test splits: train trains, dev chooses, test is read once.",
    no_args_is_help=True,
)


@splits_app.command("show")
@clean_errors
def show() -> None:
    """Print the pinned manifest's sides and their sizes."""
    from bastion.redteam.splits import load_manifest

    data = load_manifest()
    for role, what in data["roles"].items():
        typer.echo(f"{role}: {what}")
    for name in ("redteam_goals", "benign_goals"):
        sizes = ", ".join(f"{side} {len(ids)}" for side, ids in data[name].items())
        typer.echo(f"{name}: {sizes}")
    typer.echo(f"attack_variants: {len(data['attack_variants'])} attacks with held-out variants")
    for name in ("benign_prompts", "lookalikes"):
        sizes = ", ".join(f"{s} {data[name][s]['count']}" for s in ("train", "dev", "test"))
        typer.echo(f"{name}: {sizes}")


@splits_app.command("verify")
@clean_errors
def verify(shared_data: SharedData = DEFAULT_SHARED_DATA) -> None:
    """Recompute every split and compare it with the pinned manifest (exit 1 on a change)."""
    from bastion.redteam.splits import build_manifest, diff_manifest, load_manifest

    changes = diff_manifest(load_manifest(), build_manifest(shared_data))
    exit_on_problems(changes, "splits match the pinned manifest")


@splits_app.command("write")
@clean_errors
def write(
    shared_data: SharedData = DEFAULT_SHARED_DATA,
    out: Annotated[Path | None, typer.Option(help="Where (default: the packaged file).")] = None,
) -> None:
    """Write the manifest as the code and data split them now (a new pin: review the diff)."""
    from bastion.redteam.splits import build_manifest, manifest_path

    target = out or manifest_path()
    text = json.dumps(build_manifest(shared_data), indent=1, ensure_ascii=False, sort_keys=True)
    target.write_text(text + "\n", encoding="utf-8")
    typer.echo(f"wrote {target}")
