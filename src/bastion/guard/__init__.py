"""The guard: normalisation, layers, the cascade pipeline and the combining policy."""

from bastion.guard.combine import CascadeCombiner
from bastion.guard.config import CombinerConfig, GuardConfig, LayerConfig, load_config
from bastion.guard.guard import Guard
from bastion.guard.layers.base import (
    CheckRequest,
    Layer,
    LayerConfigModel,
    LayerDeps,
    LayerPlugin,
    Requirement,
    layer_plugin,
)
from bastion.guard.pipeline import Pipeline, Stage
from bastion.guard.registry import build_layer_registry

__all__ = [
    "CascadeCombiner",
    "CheckRequest",
    "CombinerConfig",
    "Guard",
    "GuardConfig",
    "Layer",
    "LayerConfig",
    "LayerConfigModel",
    "LayerDeps",
    "LayerPlugin",
    "Pipeline",
    "Requirement",
    "Stage",
    "build_layer_registry",
    "layer_plugin",
    "load_config",
]
