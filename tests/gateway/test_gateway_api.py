"""Pins the gateway's public surface and its layering."""

from __future__ import annotations

import subprocess
import sys

import bastion.gateway

PUBLIC = [
    "Completion",
    "DecisionEvent",
    "DecisionRecorder",
    "EmbeddedUpstream",
    "GatewaySettings",
    "JsonlRecorder",
    "MemoryRecorder",
    "OpenAICompatibleUpstream",
    "ScriptedUpstream",
    "StreamSettings",
    "Upstream",
    "UpstreamError",
    "UpstreamRequest",
    "UpstreamSettings",
    "WindowGate",
    "build_upstream",
    "create_app",
    "load_settings",
]


def test_all_is_pinned() -> None:
    assert sorted(bastion.gateway.__all__) == PUBLIC
    for name in PUBLIC:
        assert getattr(bastion.gateway, name) is not None


def test_upstream_error_is_in_the_one_exception_tree() -> None:
    from bastion.core.errors import BastionError

    assert issubclass(bastion.gateway.UpstreamError, BastionError)


def test_the_cli_does_not_import_the_gateway_until_serve_runs() -> None:
    code = (
        "import sys, bastion.cli.app; "
        "print('fastapi' in sys.modules, 'bastion.gateway' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["False", "False"]


def test_importing_the_gateway_does_not_load_the_llm_runtime() -> None:
    code = "import sys, bastion.gateway; print('llama_cpp' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"
