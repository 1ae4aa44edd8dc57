"""The official openai client, unchanged, against the gateway on a real uvicorn server."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from typing import Any

import httpx
import openai
import pytest

from bastion.gateway import GatewaySettings, ScriptedUpstream, create_app


@pytest.fixture
def base_url(
    settings: GatewaySettings, serve_in_thread: Callable[[Any], AbstractContextManager[str]]
) -> Iterator[str]:
    upstream = ScriptedUpstream(["Hello from the scripted upstream, streamed in pieces."])
    with serve_in_thread(create_app(settings, upstream=upstream)) as base:
        yield f"{base}/v1"


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


def test_a_client_that_hangs_up_stops_the_upstream(
    settings: GatewaySettings, serve_in_thread: Callable[[Any], AbstractContextManager[str]]
) -> None:
    """Closing a stream early closes the upstream's stream too (it stops generating)."""
    upstream = ScriptedUpstream(["word " * 2000], chunk_chars=5, delay_s=0.002)
    app = create_app(
        settings.model_copy(
            update={"stream": settings.stream.model_copy(update={"check_every": 20, "window": 60})}
        ),
        upstream=upstream,
    )
    with serve_in_thread(app) as root, httpx.Client(base_url=f"{root}/v1", timeout=10) as http:
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
