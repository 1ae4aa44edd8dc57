"""Layer names: two layers of one kind stay apart in verdicts, thresholds and decisions."""

from __future__ import annotations

from typing import Any

import pytest

from bastion.core.errors import ConfigError
from bastion.core.registry import Registry
from bastion.core.types import Action
from bastion.guard import Guard, GuardConfig, LayerConfig, load_config
from bastion.guard.layers.base import LayerPlugin
from bastion.policy import Policy


def _static(name: str | None = None, act: float | None = None, **params: Any) -> LayerConfig:
    return LayerConfig(type="fake_static", name=name, act_threshold=act, params=params)


def _guard(policy: Policy, registry: Registry[LayerPlugin], *layers: LayerConfig) -> Guard:
    return Guard.from_policy(policy, config=GuardConfig(layers=list(layers)), registry=registry)


def test_unnamed_repeats_get_numbered_names(
    policy: Policy, fake_registry: Registry[LayerPlugin]
) -> None:
    guard = _guard(policy, fake_registry, _static(), _static(), _static(name="third"))
    assert guard.layers == ("fake_static", "fake_static_2", "third")
    assert [v.layer for v in guard.check("x").verdicts] == list(guard.layers)


def test_each_named_layer_keeps_its_own_threshold(
    policy: Policy, fake_registry: Registry[LayerPlugin]
) -> None:
    strict = _static(name="strict", act=0.95, score=0.9, category="cybersecurity")
    loose = _static(name="loose", act=0.5, score=0.6, category="cybersecurity")
    decision = _guard(policy, fake_registry, strict, loose).check("x")
    assert decision.action is not Action.ALLOW
    assert decision.layer == "loose"  # the strict layer's 0.9 is under its own 0.95
    only_strict = _guard(policy, fake_registry, strict).check("x")
    assert only_strict.action is Action.ALLOW


def test_failure_verdict_carries_the_configured_name(
    policy: Policy, fake_registry: Registry[LayerPlugin]
) -> None:
    guard = _guard(policy, fake_registry, LayerConfig(type="fake_failing", name="flaky"))
    decision = guard.check("x")
    assert decision.action is Action.REFUSE
    assert [v.layer for v in decision.verdicts] == ["flaky"]
    assert decision.verdicts[0].error


def test_repeated_explicit_names_are_a_config_error() -> None:
    with pytest.raises(ConfigError, match="repeated: head"):
        load_config(
            overrides={
                "layers": [{"type": "rules", "name": "head"}, {"type": "rules", "name": "head"}]
            }
        )


@pytest.mark.parametrize("bad", ["Head", "1head", "head-1", "", "x" * 65])
def test_bad_names_are_a_config_error(bad: str) -> None:
    with pytest.raises(ConfigError, match="name"):
        load_config(overrides={"layers": [{"type": "rules", "name": bad}]})


# Guard.recombine: recorded verdicts decided again at other per-layer act thresholds.


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
