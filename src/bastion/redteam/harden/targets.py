"""What the hardening loop attacks, and the guard configuration it writes.

- :func:`guard_factory`: the real thing. A base guard configuration plus one more
  ``prompt_classifier`` layer per attack head (every round's head so far, when the loop
  stacks them); the loop attacks it through :class:`~bastion.redteam.targets.GuardTarget`.
- :class:`HeadTarget`: the classifier heads alone over any encoder (refuse when any head
  scores at or above its artifact's threshold). With
  :class:`~bastion.models.fakes.FakeEncoder` it lets the whole loop run in tests in
  seconds, no ONNX model involved.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from itertools import count
from pathlib import Path
from typing import Any

import yaml

from bastion.guard import Guard, GuardConfig, LayerConfig
from bastion.models.prompt_classifier import PromptClassifier
from bastion.redteam.base import Probe
from bastion.redteam.harden.examples import UnitPicker
from bastion.redteam.harden.head import Encoder
from bastion.redteam.targets import GuardTarget, Target, TargetReply

__all__ = [
    "CLASSIFIER_LAYER",
    "HEAD_NAME",
    "HeadTarget",
    "guard_factory",
    "hardened_config",
    "write_config",
]

CLASSIFIER_LAYER = "prompt_classifier"
HEAD_NAME = "attack_head"
TargetFactory = Callable[[Sequence[Path]], Target]
"""Builds the target for attack head artifact folders (none: the starting guard)."""


def hardened_config(base: GuardConfig, artifact: Path | Sequence[Path]) -> GuardConfig:
    """``base`` plus one ``prompt_classifier`` layer per attack head ``artifact`` (in
    order), right after the existing classifier layers (at the end when there are none),
    named ``attack_head_1``, ``attack_head_2``, ... (after any such names ``base`` has)."""
    heads = [artifact] if isinstance(artifact, Path) else list(artifact)
    layers = list(base.layers)
    last = max((i for i, x in enumerate(layers) if x.type == CLASSIFIER_LAYER), default=-1)
    taken = {x.name for x in layers if x.name}
    names = (f"{HEAD_NAME}_{n}" for n in count(1) if f"{HEAD_NAME}_{n}" not in taken)
    added = [
        LayerConfig(type=CLASSIFIER_LAYER, name=name, params={"artifact": head}, timeout_s=5)
        for head, name in zip(heads, names, strict=False)
    ]
    at = last + 1 if last >= 0 else len(layers)
    return base.model_copy(update={"layers": [*layers[:at], *added, *layers[at:]]})


def write_config(path: Path, config: GuardConfig, note: str) -> Path:
    """Write ``config`` as a guard YAML file with a comment header."""
    data: dict[str, Any] = config.model_dump(mode="json", exclude_defaults=True)
    data["layers"] = [_layer(layer) for layer in config.layers]
    header = "".join(f"# {line}\n" for line in note.splitlines())
    path.write_text(header + yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def _layer(layer: LayerConfig) -> dict[str, Any]:
    return layer.model_dump(mode="json", exclude_defaults=True) | {"type": layer.type}


def guard_factory(base: GuardConfig) -> TargetFactory:
    """Targets for the loop: the guard of ``base`` plus the given attack heads."""

    def build(heads: Sequence[Path]) -> Target:
        config = hardened_config(base, heads) if heads else base
        return GuardTarget(Guard.from_config(config))

    return build


class HeadTarget:
    """Classifier heads alone: refuse when, for any head, the most unsafe unit scores at
    or above that artifact's threshold, else allow.

    Args:
        artifacts: the artifact folders (None: the shipped one).
        encoder: embeds the units (the artifacts' encoder, or a fake in tests).
    """

    def __init__(self, artifacts: Sequence[Path | None], encoder: Encoder) -> None:
        self._heads = [PromptClassifier.load(a) for a in artifacts] or [PromptClassifier.load()]
        self._encoder = encoder
        self._units = UnitPicker()

    @classmethod
    def factory(cls, encoder: Encoder, start: Path | None = None) -> TargetFactory:
        """A :data:`TargetFactory` of head targets over ``encoder``: ``start`` (None: the
        shipped head) and the given heads."""
        return lambda heads: cls([start, *heads], encoder)

    def answer(self, probe: Probe) -> TargetReply:
        """The heads' decision, shaped like the guard's."""
        units = self._units.units(probe.messages)
        scores = []
        if units:
            x = self._encoder.encode(units)
            scores = [(float(h.p_unsafe(x).max()), h.threshold) for h in self._heads]
        score = max((p for p, _ in scores), default=0.0)
        action = "refuse" if any(p >= t for p, t in scores) else "allow"
        blocked = action == "refuse"
        text = "I can't help with that." if blocked else ""
        return TargetReply(text, blocked, action, {"action": action, "score": round(score, 4)})
