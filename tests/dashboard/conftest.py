"""Dashboard fixtures: the real gateway app with the dashboard, a store and a scripted upstream."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from fastapi.testclient import TestClient

from bastion.gateway import GatewaySettings, load_settings
from bastion.oversight import OversightStore, Scope
from bastion.oversight.fakes import MemoryStore

from ._support import PASSWORD, build_app, login


@pytest.fixture
def settings() -> GatewaySettings:
    return load_settings(environ={}, overrides={"upstream.target": "scripted"})


@pytest.fixture
def store() -> Iterator[OversightStore]:
    memory = MemoryStore()
    memory.create_user("reviewer", PASSWORD, role=Scope.REVIEWER)
    yield memory
    memory.close()


@contextmanager
def _client(store: OversightStore, settings: GatewaySettings) -> Iterator[TestClient]:
    with TestClient(build_app(store, settings), base_url="http://testserver") as client:
        yield client


@pytest.fixture
def make_client() -> Callable[..., Any]:
    """``make_client(store, settings)``: a context manager yielding a TestClient."""
    return _client


@pytest.fixture
def client(store: OversightStore, settings: GatewaySettings) -> Iterator[TestClient]:
    with _client(store, settings) as test_client:
        yield test_client


@pytest.fixture
def reviewer(client: TestClient) -> TestClient:
    """The client, logged in as a reviewer."""
    assert login(client).status_code == 303
    return client
