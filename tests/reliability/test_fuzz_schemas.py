"""Fuzz the gateway's request schemas, alone and through the app.

Alone: any JSON value (or any bytes) validated as a request body gives the model or a
pydantic ``ValidationError``, and a valid chat or check body converts to core messages.
Through the app: any JSON value or bytes posted to any POST route of the OpenAPI schema
is answered without a server error (every status below 500), with a valid admin key so
that the reviewer routes parse their bodies too.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

from bastion.gateway import GatewaySettings, ScriptedUpstream, create_app
from bastion.gateway.oversight_routes import AppealBody, DecisionBody, ReportBody
from bastion.gateway.schemas import ChatRequest, CheckBody, ModerationBody, to_messages
from bastion.oversight import OversightStore, Scope

pytestmark = pytest.mark.reliability

_MODELS: list[type[BaseModel]] = [
    ChatRequest,
    ModerationBody,
    CheckBody,
    ReportBody,
    AppealBody,
    DecisionBody,
]
_FIELDS = ["messages", "role", "content", "type", "text", "input", "model", "stream"]
_FIELDS += ["max_tokens", "temperature", "response", "context", "request_id", "reason", "kind"]
_FIELDS += ["entry_id", "outcome", "rationale", "action", "category", "reviewer"]
_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=2**63 - 2, max_value=2**70),
    st.floats(),
    st.text(st.characters(codec=None, exclude_categories=()), max_size=12),
    st.sampled_from(["user", "assistant", "tool", "text", "uphold", "overturn", "refuse"]),
)
_JSON: st.SearchStrategy[Any] = st.recursive(
    _SCALARS,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.sampled_from(_FIELDS) | st.text(max_size=5), inner, max_size=5)
    ),
    max_leaves=16,
)


def _validate(model: type[BaseModel], value: Any) -> None:
    try:
        parsed = model.model_validate(value)
    except ValidationError:
        return
    if isinstance(parsed, ChatRequest | CheckBody):
        for message in to_messages(parsed.messages):
            message.content.encode("utf-8")  # upstream-safe text


@settings(settings.get_profile("bastion-fuzz"))
@given(st.sampled_from(_MODELS), _JSON)
def test_schemas_any_json(model: type[BaseModel], value: Any) -> None:
    _validate(model, value)


@settings(settings.get_profile("bastion-fuzz"))
@given(st.sampled_from(_MODELS), st.binary(max_size=80) | _JSON.map(json.dumps).map(str.encode))
def test_schemas_any_bytes(model: type[BaseModel], data: bytes) -> None:
    with contextlib.suppress(ValidationError):
        model.model_validate_json(data)


@pytest.fixture(scope="module")
def admin_client(
    gateway_settings: GatewaySettings, sqlite_store: OversightStore, upstream: ScriptedUpstream
) -> Iterator[TestClient]:
    secret = sqlite_store.create_key("fuzz", Scope.ADMIN).secret
    app = create_app(gateway_settings, store=sqlite_store, upstream=upstream)
    with TestClient(app, raise_server_exceptions=False) as client:
        client.headers["Authorization"] = f"Bearer {secret}"
        yield client


def _post_paths(client: TestClient) -> list[str]:
    schema = client.get("/openapi.json").json()
    paths = [path for path, ops in schema["paths"].items() if "post" in ops]
    return sorted(path.replace("{item_id}", "item-1") for path in paths)


@settings(settings.get_profile("bastion-fuzz"))
@given(data=st.data())
def test_gateway_post_routes_any_body(admin_client: TestClient, data: st.DataObject) -> None:
    path = data.draw(st.sampled_from(_post_paths(admin_client)), label="path")
    body = data.draw(_JSON.map(json.dumps).map(str.encode) | st.binary(max_size=60), label="body")
    kind = data.draw(st.sampled_from(["application/json", "text/plain", ""]), label="type")
    response = admin_client.post(path, content=body, headers={"Content-Type": kind})
    assert response.status_code < 500, (path, body, response.text)
