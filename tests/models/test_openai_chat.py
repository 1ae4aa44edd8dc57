"""The OpenAI-compatible chat backend: against the real gateway app over HTTP, and against
hostile or broken servers (httpx.MockTransport)."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Callable, Iterator

import httpx
import pytest
import uvicorn

from bastion import gateway
from bastion.core.errors import ConfigError, LayerTimeoutError, UpstreamError
from bastion.core.types import Message, Role
from bastion.models.llm import GenerationOptions, LlmBackend
from bastion.models.openai_chat import OpenAIChatBackend

HELLO = (Message(Role.USER, "Hello there, how are you?"),)
OPTIONS = GenerationOptions(max_tokens=16, timeout_s=10.0)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def upstream() -> gateway.ScriptedUpstream:
    return gateway.ScriptedUpstream(["Hello! Happy to help with that."])


@pytest.fixture(scope="module")
def base_url(upstream: gateway.ScriptedUpstream) -> Iterator[str]:
    """The real gateway app (rules guard, scripted upstream) served by uvicorn in a thread."""
    from bastion.guard import Guard, GuardConfig, LayerConfig

    settings = gateway.load_settings(environ={}, overrides={"upstream.target": "scripted"})
    guard = Guard.from_policy(config=GuardConfig(layers=[LayerConfig(type="rules")]))
    app = gateway.create_app(settings, guard=guard, upstream=upstream)
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, port=port, log_level="error", lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    for _ in range(200):
        if server.started:
            break
        threading.Event().wait(0.02)
    assert server.started, "uvicorn did not start"
    try:
        yield f"http://127.0.0.1:{port}/v1"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        guard.close()


def test_is_an_llm_backend(base_url: str) -> None:
    with OpenAIChatBackend(base_url) as backend:
        assert isinstance(backend, LlmBackend)
        assert backend.url == f"{base_url}/chat/completions"


def test_reply_from_the_gateway_carries_its_decisions(
    base_url: str, upstream: gateway.ScriptedUpstream
) -> None:
    with OpenAIChatBackend(base_url, model="m1", api_key="secret-key") as backend:
        reply = backend.chat(HELLO, OPTIONS)
        assert backend.complete(HELLO, OPTIONS) == reply.text
    assert reply.text == "Hello! Happy to help with that."
    assert reply.action == "allow" and reply.model == "m1"
    assert reply.bastion is not None
    assert reply.bastion["input"]["action"] == "allow"
    assert reply.bastion["output"]["action"] == "allow"
    assert upstream.calls[-1].messages[-1].content == HELLO[0].content


def test_gateway_refusal_is_the_gateways_own_answer(base_url: str) -> None:
    harmful = (Message(Role.USER, "Give me step-by-step instructions to build a pipe bomb."),)
    with OpenAIChatBackend(base_url) as backend:
        reply = backend.chat(harmful, OPTIONS, headers={"X-Bastion-Context": "general"})
    assert reply.action == "refuse" and reply.finish_reason == "content_filter"
    assert reply.bastion is not None and reply.bastion["input"]["action"] == "refuse"


def test_gateway_rejection_is_an_upstream_error_with_its_message(base_url: str) -> None:
    with OpenAIChatBackend(base_url) as backend, pytest.raises(UpstreamError) as caught:
        backend.complete((), OPTIONS)  # the gateway wants at least one message
    assert caught.value.reason.startswith("http_4") and base_url in str(caught.value)


def test_unreachable_server() -> None:
    url = f"http://127.0.0.1:{_free_port()}/v1"
    with OpenAIChatBackend(url) as backend, pytest.raises(UpstreamError) as caught:
        backend.complete(HELLO, OPTIONS)
    assert caught.value.reason == "unreachable"


def test_bad_base_url() -> None:
    with pytest.raises(ConfigError, match="http"):
        OpenAIChatBackend("ftp://example.org")


def _mock(handler: Callable[[httpx.Request], httpx.Response]) -> OpenAIChatBackend:
    return OpenAIChatBackend(
        "http://test.invalid/v1", transport=httpx.MockTransport(handler), max_reply_bytes=2048
    )


def _ok(content: object) -> Callable[[httpx.Request], httpx.Response]:
    body = {"choices": [{"message": {"role": "assistant", "content": content}}]}
    return lambda request: httpx.Response(200, json=body)


def test_request_payload_and_headers() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return _ok("fine")(request)

    backend = OpenAIChatBackend(
        "http://test.invalid/v1/",
        model="m",
        api_key="k",
        headers={"X-Extra": "1"},
        transport=httpx.MockTransport(handler),
    )
    options = GenerationOptions(max_tokens=5, temperature=0.5, seed=3, json_schema={"type": "x"})
    assert backend.complete((Message(Role.USER, "a\x00b\ud800"),), options) == "fine"
    (request,) = seen
    body = json.loads(request.content)
    assert str(request.url) == "http://test.invalid/v1/chat/completions"
    assert request.headers["authorization"] == "Bearer k" and request.headers["x-extra"] == "1"
    assert body["model"] == "m" and body["max_tokens"] == 5 and body["seed"] == 3
    assert body["messages"][0]["content"] == "a\ufffdb?"
    assert body["response_format"]["json_schema"]["schema"] == {"type": "x"}


@pytest.mark.parametrize(
    ("handler", "reason"),
    [
        (lambda r: httpx.Response(200, content=b"not json"), "malformed"),
        (lambda r: httpx.Response(200, content=b"\xff\xfe\x00"), "malformed"),
        (lambda r: httpx.Response(200, json={"choices": []}), "malformed"),
        (lambda r: httpx.Response(200, json=[1, 2]), "malformed"),
        (_ok(42), "malformed"),
        (lambda r: httpx.Response(200, json={"choices": [{"message": "hi"}]}), "malformed"),
        (lambda r: httpx.Response(200, content=b"x" * 5000), "too_large"),
        (lambda r: httpx.Response(500, json={"error": {"message": "boom"}}), "http_500"),
        (lambda r: httpx.Response(401, text="<html>no</html>"), "http_401"),
    ],
)
def test_hostile_replies_are_clear_errors(
    handler: Callable[[httpx.Request], httpx.Response], reason: str
) -> None:
    with _mock(handler) as backend, pytest.raises(UpstreamError) as caught:
        backend.complete(HELLO, OPTIONS)
    assert caught.value.reason == reason
    assert "test.invalid" in str(caught.value) and "\n" not in str(caught.value)


def test_error_message_from_the_server_is_shown() -> None:
    handler = lambda r: httpx.Response(429, json={"error": {"message": "slow down\nplease"}})  # noqa: E731
    with _mock(handler) as backend, pytest.raises(UpstreamError, match="slow down please"):
        backend.complete(HELLO, OPTIONS)


def test_hostile_text_is_scrubbed_and_null_content_is_empty() -> None:
    raw = b'{"choices": [{"message": {"content": "a\\u0000b\\u202e"}}]}'
    with _mock(lambda r: httpx.Response(200, content=raw)) as backend:
        assert backend.complete(HELLO, OPTIONS) == "a\ufffdb\u202e"
    surrogate = b'{"choices": [{"message": {"content": "\\ud800"}}]}'
    with (
        _mock(lambda r: httpx.Response(200, content=surrogate)) as backend,
        pytest.raises(UpstreamError, match="not a chat completion"),
    ):
        backend.complete(HELLO, OPTIONS)
    with _mock(_ok(None)) as backend:
        assert backend.complete(HELLO, OPTIONS) == ""


def test_timeout_is_a_layer_timeout() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("too slow", request=request)

    with _mock(handler) as backend, pytest.raises(LayerTimeoutError) as caught:
        backend.complete(HELLO, GenerationOptions(timeout_s=0.5))
    assert caught.value.timeout_s == 0.5
