"""Bad input gets a clear OpenAI-shaped JSON error, never a 500 or a traceback."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient

from bastion.gateway import GatewaySettings

JSON = {"content-type": "application/json"}

BAD_BODIES = {
    "empty": b"",
    "malformed": b'{"messages": [',
    "not an object": b"[1, 2, 3]",
    "null": b"null",
    "no messages": b'{"model": "x"}',
    "empty messages": b'{"messages": []}',
    "messages not a list": b'{"messages": "hi"}',
    "content wrong type": b'{"messages": [{"role": "user", "content": 42}]}',
    "unknown role": b'{"messages": [{"role": "wizard", "content": "hi"}]}',
    "stream not a bool": b'{"messages": [{"role": "user", "content": "hi"}], "stream": "yes"}',
    "negative max_tokens": b'{"messages": [{"role": "user", "content": "hi"}], "max_tokens": -1}',
    "image part": b'{"messages": [{"role": "user", "content": [{"type": "image_url"}]}]}',
    "deep nesting": b'{"messages": ' + b"[" * 50_000 + b"]" * 50_000 + b"}",
    "invalid utf-8": b'{"messages": [{"role": "user", "content": "\xff\xfe"}]}',
    "nan": b'{"messages": [{"role": "user", "content": "hi"}], "temperature": NaN}',
}


def _assert_error(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    error = response.json()["error"]
    assert error["message"] and error["type"]
    assert "Traceback" not in response.text
    return dict(error)


@pytest.mark.parametrize("body", BAD_BODIES.values(), ids=list(BAD_BODIES))
def test_bad_chat_bodies_are_400(client: TestClient, body: bytes) -> None:
    response = client.post("/v1/chat/completions", content=body, headers=JSON)
    _assert_error(response, 400)


@pytest.mark.parametrize("path", ["/v1/moderations", "/v1/guard/check"])
@pytest.mark.parametrize("body", [b"", b"{", b"[]", b'{"input": 5, "messages": 5}'])
def test_bad_bodies_on_the_other_endpoints_are_400(
    client: TestClient, path: str, body: bytes
) -> None:
    _assert_error(client.post(path, content=body, headers=JSON), 400)


def test_malformed_json_says_so(client: TestClient) -> None:
    response = client.post("/v1/chat/completions", content=b"{bad", headers=JSON)
    assert _assert_error(response, 400)["message"].startswith("malformed JSON")


def test_empty_body_says_so(client: TestClient) -> None:
    response = client.post("/v1/chat/completions", content=b"", headers=JSON)
    assert "empty" in _assert_error(response, 400)["message"]


def test_huge_body_is_413_before_parsing(client: TestClient, settings: GatewaySettings) -> None:
    body = b'{"messages": [{"role": "user", "content": "' + b"a" * settings.max_body_bytes + b'"}]}'
    response = client.post("/v1/chat/completions", content=body, headers=JSON)
    assert _assert_error(response, 413)["type"] == "request_too_large"


def test_huge_body_without_content_length_is_413(client: TestClient) -> None:
    def chunks() -> Any:
        for _ in range(40):
            yield b"x" * 50_000

    response = client.post("/v1/chat/completions", content=chunks(), headers=JSON)
    _assert_error(response, 413)


def test_unknown_route_and_method(client: TestClient) -> None:
    assert _assert_error(client.get("/v1/nope"), 404)["type"] == "not_found"
    _assert_error(client.get("/v1/chat/completions"), 405)


HOSTILE = [
    "\\ud800 lone surrogate",
    "nul \\u0000 byte",
    "\\u202eRTL override\\u202c",
    "zero\\u200bwidth\\u200bjoiners",
    "\\ud83d\\ude00 emoji pair",
    "combining " + "\\u0301" * 5000,
]


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_unicode_gets_a_decision_not_an_error(client: TestClient, text: str) -> None:
    raw = '{"messages": [{"role": "user", "content": "' + text + '"}]}'
    response = client.post("/v1/chat/completions", content=raw.encode(), headers=JSON)
    assert response.status_code == 200, response.text
    assert response.json()["bastion"]["input"]["action"] in {"allow", "caution", "refuse"}
    check = client.post("/v1/guard/check", content=raw.encode(), headers=JSON)
    assert check.status_code == 200
    json.loads(check.text)  # still valid JSON with whatever came back
