"""Issue 22, finding 9: every layer has a deadline, and failing open must be acknowledged."""

from __future__ import annotations

import logging
import time
from typing import Any

import pytest

from bastion.core.errors import ConfigError
from bastion.core.registry import Registry
from bastion.core.types import Action
from bastion.guard import Guard, GuardConfig, LayerConfig, Stage, load_config
from bastion.guard.layers.base import LayerPlugin
from bastion.guard.layers.fakes import StaticLayer, StaticLayerConfig
from bastion.policy import Policy


def _guard(
    policy: Policy, registry: Registry[LayerPlugin], *layers: dict[str, Any], **cfg: Any
) -> Guard:
    specs = [LayerConfig(**spec) for spec in layers]
    return Guard.from_policy(policy, config=GuardConfig(layers=specs, **cfg), registry=registry)


def _slow(delay_s: float, **spec: Any) -> dict[str, Any]:
    return {"type": "fake_slow", "params": {"delay_s": delay_s}, **spec}


def test_a_layer_without_timeout_gets_the_default_deadline(
    policy: Policy, fake_registry: Registry[LayerPlugin]
) -> None:
    # Before: no timeout_s meant no deadline; this check waited the full 2 s and allowed.
    with _guard(policy, fake_registry, _slow(2.0), default_timeout_s=0.05) as guard:
        start = time.perf_counter()
        decision = guard.check("hello")
        elapsed = time.perf_counter() - start
    assert decision.action is Action.REFUSE
    assert decision.error and "timed out after 0.05 s" in decision.error
    assert elapsed < 1.5


def test_an_inline_tier0_layer_past_its_deadline_fails_closed(
    policy: Policy, fake_registry: Registry[LayerPlugin]
) -> None:
    with _guard(policy, fake_registry, _slow(0.2, tier=0), default_timeout_s=0.05) as guard:
        decision = guard.check("hello")
    assert decision.action is Action.REFUSE
    assert decision.error and "ran inline" in decision.error


def test_an_explicit_timeout_runs_a_tier0_layer_on_a_worker(
    policy: Policy, fake_registry: Registry[LayerPlugin]
) -> None:
    with _guard(policy, fake_registry, _slow(2.0, tier=0, timeout_s=0.05)) as guard:
        start = time.perf_counter()
        decision = guard.check("hello")
        assert time.perf_counter() - start < 1.5  # cut short, not waited for
    assert decision.error and "timed out after 0.05 s" in decision.error


def test_a_fast_layer_within_its_deadline_is_unaffected(
    policy: Policy, fake_registry: Registry[LayerPlugin]
) -> None:
    static = {"type": "fake_static", "params": {"score": 0.1}, "tier": 0}
    with _guard(policy, fake_registry, static) as guard:
        decision = guard.check("hello")
    assert decision.action is Action.ALLOW and decision.error is None


@pytest.mark.parametrize("timeout", [0.0, -1.0, float("nan"), float("inf")])
def test_a_stage_needs_a_finite_positive_deadline(timeout: float) -> None:
    with pytest.raises(ValueError, match="positive deadline"):
        Stage(StaticLayer(StaticLayerConfig()), tier=0, timeout_s=timeout)


@pytest.mark.parametrize(
    "setting",
    [
        {"fail_action": "allow"},
        {"fail_action": "caution"},
        {"oversize_action": "allow"},
    ],
)
def test_failing_open_without_acknowledgement_is_a_config_error(setting: dict[str, str]) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(overrides=setting)
    message = str(caught.value)
    field = next(iter(setting))
    assert f"{field}: {setting[field]} fails open" in message
    assert "acknowledge_fail_open: true" in message
    assert "Value error" not in message


def test_the_environment_alone_cannot_fail_open() -> None:
    with pytest.raises(ConfigError, match="acknowledge_fail_open"):
        load_config(environ={"BASTION_FAIL_ACTION": "allow"})


def test_an_acknowledged_fail_open_loads_from_a_file(tmp_path: Any) -> None:
    path = tmp_path / "guard.yaml"
    path.write_text("fail_action: allow\nacknowledge_fail_open: true\n", "utf-8")
    config = load_config(path)
    assert config.fail_action is Action.ALLOW
    assert len(config.fail_open_warnings) == 1
    assert "fail_action is allow" in config.fail_open_warnings[0]


def test_an_acknowledged_fail_open_warns_at_start_up_and_still_fails_open(
    policy: Policy, fake_registry: Registry[LayerPlugin], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="bastion.guard")
    failing = {"type": "fake_failing"}
    with _guard(
        policy, fake_registry, failing, fail_action="allow", acknowledge_fail_open=True
    ) as guard:
        assert guard.warnings == guard.config.fail_open_warnings
        assert len(guard.warnings) == 1
        decision = guard.check("hello")
    warned = [r for r in caplog.records if r.name == "bastion.guard"]
    assert len(warned) == 1 and warned[0].levelno == logging.WARNING
    assert "fail_action is allow" in warned[0].getMessage()
    assert decision.action is Action.ALLOW and decision.error  # the operator's choice


def test_a_fail_closed_guard_has_no_warnings(
    policy: Policy, fake_registry: Registry[LayerPlugin], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="bastion.guard")
    with _guard(policy, fake_registry, {"type": "fake_static"}) as guard:
        assert guard.warnings == ()
    assert not [r for r in caplog.records if r.name == "bastion.guard"]
