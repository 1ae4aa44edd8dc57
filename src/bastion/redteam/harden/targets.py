"""What the hardening loop attacks, and the guard configuration it writes.

- :func:`guard_factory`: the real thing. A base guard configuration plus a second
  ``prompt_classifier`` layer reading each round's attack head; the loop attacks it
  through :class:`~bastion.redteam.targets.GuardTarget`.
- :class:`HeadTarget`: the classifier head alone over any encoder (refuse at or above
  the artifact's threshold). With :class:`~bastion.models.fakes.FakeEncoder` it lets the
  whole loop run in tests in seconds, no ONNX model involved.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from bastion.guard import Guard, GuardConfig, LayerConfig
from bastion.models.prompt_classifier import PromptClassifier
from bastion.redteam.base import Probe
from bastion.redteam.harden.examples import UnitPicker
from bastion.redteam.harden.head import Encoder
from bastion.redteam.targets import GuardTarget, Target, TargetReply

__all__ = ["CLASSIFIER_LAYER", "HeadTarget", "guard_factory", "hardened_config", "write_config"]

CLASSIFIER_LAYER = "prompt_classifier"
TargetFactory = Callable[[Path | None], Target]
"""Builds the target for an artifact folder (None: the shipped classifier)."""


def hardened_config(base: GuardConfig, artifact: Path) -> GuardConfig:
    """``base`` plus a ``prompt_classifier`` layer reading the attack head ``artifact``,
    right after the existing classifier layers (at the end when there are none)."""
    layers = list(base.layers)
    last = max((i for i, x in enumerate(layers) if x.type == CLASSIFIER_LAYER), default=-1)
    added = LayerConfig(type=CLASSIFIER_LAYER, params={"artifact": artifact}, timeout_s=5)
    at = last + 1 if last >= 0 else len(layers)
    return base.model_copy(update={"layers": [*layers[:at], added, *layers[at:]]})


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
    """Targets for the loop: the guard of ``base``, its classifier swapped per artifact."""

    def build(artifact: Path | None) -> Target:
        config = base if artifact is None else hardened_config(base, artifact)
        return GuardTarget(Guard.from_config(config))

    return build


class HeadTarget:
    """The classifier head alone: refuse when the most unsafe unit scores at or above the
    artifact's threshold, else allow.

    Args:
        artifact: the artifact folder (None: the shipped one).
        encoder: embeds the units (the artifact's encoder, or a fake in tests).
    """

    def __init__(self, artifact: Path | None, encoder: Encoder) -> None:
        self._head = PromptClassifier.load(artifact)
        self._encoder = encoder
        self._units = UnitPicker()

    @classmethod
    def factory(cls, encoder: Encoder) -> TargetFactory:
        """A :data:`TargetFactory` of head targets over ``encoder``."""
        return lambda artifact: cls(artifact, encoder)

    def answer(self, probe: Probe) -> TargetReply:
        """The head's decision, shaped like the guard's."""
        units = self._units.units(probe.messages)
        score = float(self._head.p_unsafe(self._encoder.encode(units)).max()) if units else 0.0
        action = "refuse" if score >= self._head.threshold else "allow"
        blocked = action == "refuse"
        text = "I can't help with that." if blocked else ""
        return TargetReply(text, blocked, action, {"action": action, "score": round(score, 4)})
