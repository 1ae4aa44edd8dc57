"""``bastion train``: fit the learned tiers from the shared data (needs the ``train`` extra)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from bastion.cli._common import clean_errors

__all__ = ["train_app"]

train_app = typer.Typer(help="Train the learned tiers.", no_args_is_help=True)


@train_app.command("prompt-classifier")
@clean_errors
def prompt_classifier(
    out: Annotated[
        Path | None, typer.Option(help="Artifact folder (default: the packaged one).")
    ] = None,
    shared_data: Annotated[Path, typer.Option(help="The shared data folder.")] = Path(
        "../shared/data"
    ),
    seed: Annotated[int, typer.Option(help="Random seed.")] = 0,
) -> None:
    """Train the tier-1 prompt classifier; writes weights, MODEL_CARD.md and report.html."""
    from rich.progress import Progress

    from bastion.models.encoder import MiniLMEncoder
    from bastion.models.prompt_classifier import packaged_artifact_dir
    from bastion.training import TrainSettings, train_prompt_classifier

    settings = TrainSettings(shared_data=shared_data, out=out or packaged_artifact_dir(), seed=seed)
    with Progress(transient=True) as bar:
        task = bar.add_task("embedding", total=None)
        result = train_prompt_classifier(
            settings,
            MiniLMEncoder(threads=2),
            lambda done, total: bar.update(task, completed=done, total=total),
        )
    test = result.metadata["metrics"]["contrast_test"]["at_threshold"]
    typer.echo(
        f"wrote {result.out} (threshold {result.metadata['threshold']:.4f}; contrast test: "
        f"benign pass {test['benign_pass_rate']}, unsafe catch {test['unsafe_catch_rate']})"
    )
