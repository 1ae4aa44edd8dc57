"""``bastion train response-classifier``: fit the reply classifier (needs the ``train`` extra).

The lead registers :func:`response_classifier` on ``train_app`` in :mod:`bastion.cli.train`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from bastion.cli._common import DEFAULT_SHARED_DATA, ArtifactOut, Seed, SharedData, clean_errors

__all__ = ["response_classifier"]


@clean_errors
def response_classifier(
    out: ArtifactOut = None,
    shared_data: SharedData = DEFAULT_SHARED_DATA,
    seed: Seed = 0,
    features: Annotated[
        str,
        typer.Option(
            help="Refusal heads' input: parts of reply, opening, prompt, product joined by '+'."
        ),
    ] = "reply+opening",
    generated: Annotated[
        bool,
        typer.Option(help="Use generated_responses_v1.jsonl when it exists."),
    ] = True,
    cache: Annotated[
        Path | None,
        typer.Option(help="Embedding cache file (.npz); reruns skip embedding cached texts."),
    ] = None,
) -> None:
    """Train the response classifier; writes weights, MODEL_CARD.md and report.html."""
    from rich.progress import Progress

    from bastion.models.encoder import MiniLMEncoder
    from bastion.models.response_classifier import packaged_response_artifact_dir
    from bastion.training.response_classifier import (
        CachedEncoder,
        ResponseTrainSettings,
        train_response_classifier,
    )

    settings = ResponseTrainSettings(
        shared_data=shared_data,
        out=out or packaged_response_artifact_dir(),
        seed=seed,
        features=features,
        use_generated=generated,
    )
    encoder = MiniLMEncoder(threads=2)
    with Progress() as bar:
        task = bar.add_task("embedding", total=None)
        result = train_response_classifier(
            settings,
            encoder if cache is None else CachedEncoder(encoder, cache),
            lambda done, total: bar.update(task, completed=done, total=total),
        )
    dev = result.metadata["metrics"]["dev"]
    typer.echo(
        f"wrote {result.out} (harmful threshold {result.metadata['threshold']:.4f}; dev: "
        f"decline F1 {dev['decline']['f1']}, 3-way macro-F1 {dev['kind'].get('macro_f1')}, "
        f"harmful AUROC {dev['harmful']['auroc']})"
    )
