"""Issue 22, finding 8: a body shorter than its Content-Length must not hold the connection.

Driven at the ASGI level: ``receive()`` hands over part of the body and then never
returns again, as when a client stops sending. The gateway answers 408 with
``Connection: close`` once the body read timeout has passed.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from starlette.types import ASGIApp, Message

from bastion.gateway import GatewaySettings, ScriptedUpstream, create_app, load_settings
from bastion.gateway._http import BodyLimitMiddleware


def _scope(length: int) -> dict[str, Any]:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/v1/guard/check",
        "raw_path": b"/v1/guard/check",
        "query_string": b"",
        "root_path": "",
        "headers": [
            (b"host", b"testserver"),
            (b"content-type", b"application/json"),
            (b"content-length", str(length).encode()),
        ],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
    }


def _stalling_receive(first: bytes) -> Any:
    """A ``receive`` that sends ``first`` (more to come) and then never completes."""
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": first, "more_body": True}
        await asyncio.Event().wait()  # the client never sends the rest
        raise AssertionError("unreachable")

    return receive


async def _call(app: ASGIApp, first: bytes, length: int) -> list[Message]:
    sent: list[Message] = []

    async def send(message: Message) -> None:
        sent.append(message)

    await asyncio.wait_for(app(_scope(length), _stalling_receive(first), send), timeout=3)
    return sent


def _status_headers_body(sent: list[Message]) -> tuple[int, dict[bytes, bytes], dict[str, Any]]:
    start = next(m for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return int(start["status"]), dict(start["headers"]), json.loads(body)


@pytest.fixture
def slow_settings() -> GatewaySettings:
    return load_settings(
        environ={}, overrides={"upstream.target": "scripted", "body_timeout_s": 0.05}
    )


def test_a_short_body_gets_a_408_and_the_connection_closed(
    slow_settings: GatewaySettings,
) -> None:
    app = create_app(slow_settings, upstream=ScriptedUpstream())
    sent = asyncio.run(_call(app, b'{"messages": [', length=200))
    status, headers, body = _status_headers_body(sent)
    assert status == 408
    assert headers[b"connection"] == b"close"
    assert body["error"]["type"] == "request_timeout"
    assert "0.05 s" in body["error"]["message"]


def test_the_middleware_bounds_a_trickle_as_a_whole() -> None:
    reached: list[bool] = []

    async def inner(scope: Any, receive: Any, send: Any) -> None:
        reached.append(True)

    app = BodyLimitMiddleware(inner, max_bytes=10_000, body_timeout_s=0.05)
    status, headers, _ = _status_headers_body(asyncio.run(_call(app, b"{", length=50)))
    assert status == 408 and headers[b"connection"] == b"close"
    assert reached == []  # the app never saw a half-read request


def test_the_body_timeout_is_a_setting_with_a_default() -> None:
    settings = load_settings(environ={}, overrides={"upstream.target": "scripted"})
    assert settings.body_timeout_s == 10.0
    assert settings.keep_alive_s == 5
    env = {"BASTION_GATEWAY_BODY_TIMEOUT_S": "2.5"}
    assert load_settings(environ=env).body_timeout_s == 2.5
