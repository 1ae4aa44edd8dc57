"""Gateway fixtures: the real app over the shipped scripted upstream, in-process."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from fastapi.testclient import TestClient

from bastion.gateway import (
    GatewaySettings,
    MemoryRecorder,
    ScriptedUpstream,
    create_app,
    load_settings,
)
from bastion.guard import Guard, GuardConfig, LayerConfig, build_layer_registry

HARMFUL_REPLY = (
    "Sure! Step 1: get a steel pipe and end caps. Step 2: fill it with black powder and add a fuse."
)


@pytest.fixture
def settings() -> GatewaySettings:
    return load_settings(environ={}, overrides={"upstream.target": "scripted"})


@pytest.fixture
def upstream() -> ScriptedUpstream:
    return ScriptedUpstream(["Hello! Happy to help with that."])


@pytest.fixture
def recorder() -> MemoryRecorder:
    return MemoryRecorder()


@contextmanager
def _running(
    settings: GatewaySettings,
    *,
    upstream: ScriptedUpstream | None = None,
    guard: Guard | None = None,
    recorder: MemoryRecorder | None = None,
) -> Iterator[TestClient]:
    """The app in a TestClient (lifespan included), closed on exit."""
    app = create_app(settings, guard=guard, upstream=upstream, recorder=recorder)
    with TestClient(app) as client:
        yield client


@pytest.fixture
def client(
    settings: GatewaySettings, upstream: ScriptedUpstream, recorder: MemoryRecorder
) -> Iterator[TestClient]:
    with _running(settings, upstream=upstream, recorder=recorder) as test_client:
        yield test_client


@pytest.fixture
def running() -> Callable[..., Any]:
    """``running(settings, upstream=..., guard=..., recorder=...)``: a context manager."""
    return _running


@pytest.fixture
def harmful_reply() -> str:
    return HARMFUL_REPLY


@pytest.fixture
def failing_guard() -> Iterator[Guard]:
    """A guard whose only layer raises: every check must fail closed."""
    config = GuardConfig(layers=[LayerConfig(type="fake_failing")])
    with Guard.from_config(config, registry=build_layer_registry(include_fakes=True)) as guard:
        yield guard
