"""Builds the layer registry: built-in layers plus the ``bastion.layers`` entry points."""

from __future__ import annotations

from bastion.core.registry import Registry
from bastion.guard.layers.base import LayerPlugin

__all__ = ["LAYER_ENTRY_POINT_GROUP", "build_layer_registry"]

LAYER_ENTRY_POINT_GROUP = "bastion.layers"


def build_layer_registry(
    *, include_fakes: bool = False, entry_points: bool = True
) -> Registry[LayerPlugin]:
    """A fresh registry of layer plugins.

    Args:
        include_fakes: also register the fake layers (``fake_static``, ``fake_failing``,
            ``fake_slow``) used by tests and configuration experiments.
        entry_points: also load third-party layers published under ``bastion.layers``.
    """
    # Imported here so that building a guard imports only the layers it may use.
    from bastion.guard.layers.classifier import PromptClassifierLayer
    from bastion.guard.layers.injection import InjectionDetectorLayer
    from bastion.guard.layers.judge import LlmJudgeLayer
    from bastion.guard.layers.multilingual import MultilingualClassifierLayer
    from bastion.guard.layers.response import ResponseClassifierLayer
    from bastion.guard.layers.rules.layer import RulesLayer

    registry: Registry[LayerPlugin] = Registry("layer", group=LAYER_ENTRY_POINT_GROUP)
    built_in = [
        RulesLayer,
        PromptClassifierLayer,
        MultilingualClassifierLayer,
        InjectionDetectorLayer,
        ResponseClassifierLayer,
        LlmJudgeLayer,
    ]
    registry.add_marked(built_in, _name)
    if include_fakes:
        from bastion.guard.layers.fakes import FailingLayer, SlowLayer, StaticLayer

        registry.add_marked([StaticLayer, FailingLayer, SlowLayer], _name)
    if entry_points:
        registry.load_entry_points(_name)
    return registry


def _name(entry: LayerPlugin) -> str:
    return entry.name
