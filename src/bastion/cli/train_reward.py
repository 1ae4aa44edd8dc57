"""``bastion train reward-model``: fit the safety reward model (needs the ``train`` extra).

A plain function; the CLI mounts it with ``train_app.command("reward-model")(reward_model)``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from bastion.cli._common import DEFAULT_SHARED_DATA, ArtifactOut, Seed, SharedData, clean_errors

if TYPE_CHECKING:
    from bastion.training.reward import RewardTrainSettings

__all__ = ["reward_model"]


@clean_errors
def reward_model(
    out: ArtifactOut = None,
    shared_data: SharedData = DEFAULT_SHARED_DATA,
    generated: Annotated[
        Path | None,
        typer.Option(
            help="Generated responses JSONL (harmful completions, helpful answers); "
            "default: the packaged generated_responses_v1.jsonl when present."
        ),
    ] = None,
    hh_context: Annotated[
        bool, typer.Option(help="Fold earlier hh-rlhf turns into the prompt text.")
    ] = True,
    seed: Seed = 0,
) -> None:
    """Train the safety reward model; writes weights, MODEL_CARD.md and report.html."""
    from rich.progress import Progress

    from bastion.models.encoder import MiniLMEncoder
    from bastion.training.reward import train_reward_model

    settings = _settings(out, shared_data, generated, hh_context=hh_context, seed=seed)
    with Progress() as bar:
        task = bar.add_task("embedding", total=None)
        result = train_reward_model(
            settings,
            MiniLMEncoder(threads=2),
            lambda done, total: bar.update(task, completed=done, total=total),
        )
    typer.echo(_summary(result.out, result.metadata))


def _settings(
    out: Path | None, shared_data: Path, generated: Path | None, *, hh_context: bool, seed: int
) -> RewardTrainSettings:
    from bastion.shaping.reward import packaged_reward_dir
    from bastion.training.reward import RewardTrainSettings
    from bastion.training.reward_data import RewardData
    from bastion.training.reward_inputs import RefusalKit, default_generated, policy_refusals
    from bastion.training.reward_prompts import pyrit_dir

    data = RewardData(
        shared_data=shared_data,
        kit=RefusalKit.default(),
        generated=generated or default_generated(),
        hh_context=hh_context,
        pyrit_dir=pyrit_dir(),
        policy_refusals=policy_refusals(),
    )
    return RewardTrainSettings(data=data, out=out or packaged_reward_dir(), seed=seed)


def _summary(out: Path, metadata: dict[str, Any]) -> str:
    dev = metadata["metrics"]["dev"]
    parts = [
        f"{name.removeprefix('group/')} {100 * m['accuracy']:.1f} %"
        for name, m in dev.items()
        if name.startswith("group/")
    ]
    return (
        f"wrote {out} (features {metadata['feature_name']}; "
        f"dev pairwise accuracy: {', '.join(parts)})"
    )
