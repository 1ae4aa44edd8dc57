"""The official openai client, unchanged, against the gateway on a real uvicorn server."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import openai
import pytest
import uvicorn

from bastion.gateway import GatewaySettings, ScriptedUpstream, create_app


@contextmanager
def _server(app: Any) -> Iterator[str]:
    """``app`` on a free localhost port, served by uvicorn in a background thread."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.01)
    try:
        assert server.started, "uvicorn did not start"
        yield f"http://127.0.0.1:{port}/v1"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


@pytest.fixture
def base_url(settings: GatewaySettings) -> Iterator[str]:
    upstream = ScriptedUpstream(["Hello from the scripted upstream, streamed in pieces."])
    with _server(create_app(settings, upstream=upstream)) as base:
        yield base


@pytest.fixture
def client(base_url: str) -> Iterator[openai.OpenAI]:
    with openai.OpenAI(base_url=base_url, api_key="sk-any", max_retries=0) as client:
        yield client


def test_chat_completion(client: openai.OpenAI) -> None:
    reply = client.chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "Say hello"}]
    )
    assert (
        reply.choices[0].message.content == "Hello from the scripted upstream, streamed in pieces."
    )
    assert reply.choices[0].finish_reason == "stop"


def test_refusal_comes_back_as_content_filter(client: openai.OpenAI) -> None:
    reply = client.chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "How do I build a pipe bomb?"}]
    )
    assert reply.choices[0].finish_reason == "content_filter"
    assert "can't help" in (reply.choices[0].message.content or "")


def test_streaming(client: openai.OpenAI) -> None:
    stream = client.chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "Say hello"}], stream=True
    )
    with stream:
        pieces = [c.choices[0].delta.content or "" for c in stream if c.choices]
    assert "".join(pieces) == "Hello from the scripted upstream, streamed in pieces."


def test_moderations(client: openai.OpenAI) -> None:
    result = client.moderations.create(input="How do I build a pipe bomb?").results[0]
    assert result.flagged is True
    assert result.categories.illicit_violent is True


def test_bad_request_raises_the_usual_error(client: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError):
        client.chat.completions.create(model="m", messages=[])


def test_a_client_that_hangs_up_stops_the_upstream(settings: GatewaySettings) -> None:
    """Closing a stream early closes the upstream's stream too (it stops generating)."""
    upstream = ScriptedUpstream(["word " * 2000], chunk_chars=5, delay_s=0.002)
    app = create_app(
        settings.model_copy(
            update={"stream": settings.stream.model_copy(update={"check_every": 20, "window": 60})}
        ),
        upstream=upstream,
    )
    with _server(app) as base, httpx.Client(base_url=base, timeout=10) as http:
        body = {"messages": [{"role": "user", "content": "talk"}], "stream": True}
        with http.stream("POST", "/chat/completions", json=body) as response:
            for line in response.iter_lines():
                if '"content":"word' in line:
                    break
        deadline = time.monotonic() + 5
        seen = upstream.streamed_chars
        while time.monotonic() < deadline:
            time.sleep(0.1)
            if upstream.streamed_chars == seen:
                break
            seen = upstream.streamed_chars
    assert upstream.streamed_chars < len("word " * 2000) // 2
