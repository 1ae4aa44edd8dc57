"""Issue 22, finding 9: an acknowledged fail-open guard says so on ``/readyz``."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from bastion.gateway import GatewaySettings
from bastion.guard import Guard, GuardConfig, LayerConfig


def test_a_fail_closed_guard_is_ready_without_warnings(client: TestClient) -> None:
    assert client.get("/readyz").json()["warnings"] == []


def test_an_acknowledged_fail_open_guard_is_reported(
    settings: GatewaySettings, running: Any
) -> None:
    config = GuardConfig(
        fail_action="allow",  # type: ignore[arg-type]
        acknowledge_fail_open=True,
        layers=[LayerConfig(type="rules")],
    )
    with Guard.from_config(config) as guard, running(settings, guard=guard) as client:
        ready = client.get("/readyz")
    assert ready.status_code == 200
    warnings = ready.json()["warnings"]
    assert len(warnings) == 1
    assert "fail_action is allow" in warnings[0]
