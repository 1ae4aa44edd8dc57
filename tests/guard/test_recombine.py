"""Guard.recombine: recorded verdicts decided again at other act thresholds."""

from __future__ import annotations

from typing import Any

import pytest

from bastion.core.errors import ConfigError
from bastion.core.registry import Registry
from bastion.core.types import Action
from bastion.guard import Guard, GuardConfig, LayerConfig
from bastion.guard.layers.base import LayerPlugin
from bastion.policy import Policy


def _static(name: str, act: float | None = None, **params: Any) -> LayerConfig:
    return LayerConfig(type="fake_static", name=name, act_threshold=act, params=params)


def _guard(policy: Policy, registry: Registry[LayerPlugin], *layers: LayerConfig) -> Guard:
    return Guard.from_policy(policy, config=GuardConfig(layers=list(layers)), registry=registry)


def test_raising_a_threshold_lets_the_turn_through(
    policy: Policy, fake_registry: Registry[LayerPlugin]
) -> None:
    guard = _guard(policy, fake_registry, _static("head", 0.5, score=0.6, category="drugs"))
    decision = guard.check("x")
    assert decision.action is not Action.ALLOW
    assert guard.recombine(decision, {"head": 0.7}).action is Action.ALLOW
    assert guard.recombine(decision, {}) == decision  # nothing moved, same decision


def test_it_matches_a_guard_built_with_the_threshold(
    policy: Policy, fake_registry: Registry[LayerPlugin]
) -> None:
    low = _static("head", 0.9, score=0.6, category="drugs")
    decision = _guard(policy, fake_registry, low).check("x")
    built = _guard(policy, fake_registry, _static("head", 0.5, score=0.6, category="drugs"))
    assert decision.action is Action.ALLOW
    again = _guard(policy, fake_registry, low).recombine(decision, {"head": 0.5})
    assert again.action is built.check("x").action
    assert again.action is not Action.ALLOW
    assert again.layer == "head"


def test_a_failed_check_stays_failed(policy: Policy, fake_registry: Registry[LayerPlugin]) -> None:
    guard = _guard(policy, fake_registry, LayerConfig(type="fake_failing", name="flaky"))
    decision = guard.check("x")
    again = guard.recombine(decision, {"flaky": 1.0})
    assert again.action is Action.REFUSE
    assert again.error


def test_a_decision_without_verdicts_comes_back_unchanged(
    policy: Policy, fake_registry: Registry[LayerPlugin]
) -> None:
    guard = _guard(policy, fake_registry, _static("head", score=0.9, category="drugs"))
    oversized = guard.check("x" * (guard.config.max_input_chars + 1))
    assert not oversized.verdicts
    assert guard.recombine(oversized, {"head": 1.0}) is oversized


def test_unknown_layers_are_a_config_error(
    policy: Policy, fake_registry: Registry[LayerPlugin]
) -> None:
    guard = _guard(policy, fake_registry, _static("head"))
    with pytest.raises(ConfigError, match="unknown layers"):
        guard.recombine(guard.check("x"), {"nope": 0.5})
