"""Shared fixtures: the packaged policy and registries built from the shipped fakes."""

from __future__ import annotations

import pytest

from bastion.core.registry import Registry
from bastion.guard.layers.base import LayerPlugin
from bastion.guard.layers.fakes import FailingLayer, SlowLayer, StaticLayer
from bastion.policy import Policy, load_policy


@pytest.fixture(scope="session")
def policy() -> Policy:
    return load_policy()


@pytest.fixture
def fake_registry() -> Registry[LayerPlugin]:
    registry: Registry[LayerPlugin] = Registry("layer")
    registry.add_marked([StaticLayer, FailingLayer, SlowLayer], lambda e: e.name)
    return registry
