"""Any OpenAI-compatible chat API as the upstream, over httpx."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import anyio
import httpx

from bastion.gateway.upstream import Completion, UpstreamError, UpstreamRequest

__all__ = ["OpenAICompatibleUpstream"]


class OpenAICompatibleUpstream:
    """Forwards guarded conversations to ``{base_url}/chat/completions``.

    Args:
        base_url: the API root, e.g. ``https://api.openai.com/v1`` or
            ``http://127.0.0.1:11434/v1``.
        api_key: sent as ``Authorization: Bearer``; None sends none.
        model: model name used when a request names none.
        timeout_s: per-request budget: a whole reply must arrive within it (a reply that
            trickles or never ends is cut there), and so must each read of a stream.
        max_reply_bytes: a whole reply larger than this is refused as malformed.
        transport: an httpx transport (tests pass ``httpx.MockTransport``).

    Call :meth:`aclose` when done (the gateway does it at shutdown).
    """

    def __init__(
        self,
        base_url: str,
        *,
        api_key: str | None = None,
        model: str | None = None,
        timeout_s: float = 120.0,
        max_reply_bytes: int = 8_000_000,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._model = model
        self._timeout_s, self._max_bytes = timeout_s, max_reply_bytes
        self._client = httpx.AsyncClient(
            base_url=base_url, headers=headers, timeout=timeout_s, transport=transport
        )

    def _payload(self, request: UpstreamRequest, *, stream: bool) -> dict[str, Any]:
        payload: dict[str, Any] = {
            "model": request.model or self._model or "default",
            "messages": [{"role": m.role.value, "content": m.content} for m in request.messages],
            "stream": stream,
        }
        if request.max_tokens is not None:
            payload["max_tokens"] = request.max_tokens
        if request.temperature is not None:
            payload["temperature"] = request.temperature
        return payload

    async def complete(self, request: UpstreamRequest) -> Completion:
        """POST the conversation and parse the whole reply."""
        with anyio.move_on_after(self._timeout_s) as scope:
            body = await self._post(self._payload(request, stream=False))
        if scope.cancelled_caught:
            message = f"upstream did not answer within {self._timeout_s:g} s"
            raise UpstreamError(message, reason="timeout")
        try:
            data = json.loads(body)
            choice = data["choices"][0]
            usage = data.get("usage") or {}
            return Completion(
                text=str(choice["message"].get("content") or ""),
                model=str(data.get("model") or request.model or ""),
                finish_reason=str(choice.get("finish_reason") or "stop"),
                prompt_tokens=int(usage.get("prompt_tokens") or 0),
                completion_tokens=int(usage.get("completion_tokens") or 0),
            )
        except (ValueError, KeyError, IndexError, TypeError, AttributeError):
            raise UpstreamError("upstream sent a malformed reply", reason="malformed") from None

    async def _post(self, payload: dict[str, Any]) -> bytes:
        """The body of the reply to ``payload`` (at most ``max_reply_bytes``)."""
        chunks: list[bytes] = []
        size = 0
        try:
            async with self._client.stream("POST", "chat/completions", json=payload) as response:
                _raise_for_status(response.status_code)
                async for chunk in response.aiter_bytes():
                    size += len(chunk)
                    if size > self._max_bytes:
                        message = f"upstream reply over {self._max_bytes:,} bytes"
                        raise UpstreamError(message, reason="malformed")
                    chunks.append(chunk)
        except httpx.HTTPError as exc:
            raise _transport_error(exc) from None
        return b"".join(chunks)

    async def stream(self, request: UpstreamRequest) -> AsyncIterator[str]:
        """POST with ``stream: true`` and yield the content deltas of the SSE events."""
        payload = self._payload(request, stream=True)
        try:
            async with self._client.stream("POST", "chat/completions", json=payload) as response:
                _raise_for_status(response.status_code)
                async for line in response.aiter_lines():
                    delta = _delta(line)
                    if delta is None:
                        break
                    if delta:
                        yield delta
        except httpx.HTTPError as exc:
            raise _transport_error(exc) from None

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._client.aclose()


def _transport_error(exc: httpx.HTTPError) -> UpstreamError:
    if isinstance(exc, httpx.TimeoutException):
        return UpstreamError(f"upstream timed out ({type(exc).__name__})", reason="timeout")
    return UpstreamError(f"upstream unreachable: {exc}", reason="unreachable")


def _raise_for_status(status: int) -> None:
    if status >= 400:
        raise UpstreamError(f"upstream answered HTTP {status}", reason=f"http_{status}")


def _delta(line: str) -> str | None:
    """The content of one SSE line: '' for nothing to yield, None at ``[DONE]``."""
    if not line.startswith("data:"):
        return ""
    data = line[5:].strip()
    if data == "[DONE]":
        return None
    try:
        event = json.loads(data)
        if "error" in event:
            raise UpstreamError("upstream reported an error mid-stream", reason="stream_error")
        choices = event.get("choices") or [{}]
        return str((choices[0].get("delta") or {}).get("content") or "")
    except (ValueError, TypeError, AttributeError, IndexError):
        raise UpstreamError("upstream sent a malformed stream event", reason="malformed") from None
