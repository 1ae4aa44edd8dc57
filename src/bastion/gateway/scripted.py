"""A scripted upstream shipped in the package: canned replies, no model, no network.

Tests, demos and the gateway benchmark use it instead of mocks: it implements the real
:class:`~bastion.gateway.upstream.Upstream` protocol and records every request.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Callable, Sequence

from bastion.gateway.upstream import Completion, UpstreamError, UpstreamRequest

__all__ = ["DEFAULT_REPLY", "ScriptedUpstream"]

DEFAULT_REPLY = "This is a scripted reply from the bastion gateway."

Responder = Callable[[UpstreamRequest], str]
"""Computes a reply from the request."""


class ScriptedUpstream:
    """Replies from a script: strings in order (the last one repeating) or a function.

    Args:
        replies: the scripted replies, or a responder function of the request.
        chunk_chars: characters per streamed delta.
        delay_s: seconds each reply (and each streamed delta) waits first.
        fail: when set, every call raises :class:`UpstreamError` with this message.
        model: the model name replies report.

    Attributes:
        calls: every request, oldest first.
        streamed_chars: characters handed out by :meth:`stream` so far (to check that
            the gateway stops pulling after it cuts a stream).
    """

    def __init__(
        self,
        replies: Sequence[str] | Responder = (DEFAULT_REPLY,),
        *,
        chunk_chars: int = 8,
        delay_s: float = 0.0,
        fail: str | None = None,
        model: str = "scripted",
    ) -> None:
        if not callable(replies) and not replies:
            raise ValueError("ScriptedUpstream needs at least one scripted reply")
        if chunk_chars < 1:
            raise ValueError("chunk_chars must be at least 1")
        self._replies = replies
        self._chunk_chars = chunk_chars
        self._delay_s = delay_s
        self._fail = fail
        self._model = model
        self._lock = threading.Lock()
        self.calls: list[UpstreamRequest] = []
        self.streamed_chars = 0

    def _next_reply(self, request: UpstreamRequest) -> str:
        with self._lock:
            index = len(self.calls)
            self.calls.append(request)
        if self._fail is not None:
            raise UpstreamError(self._fail, reason="scripted")
        if callable(self._replies):
            return self._replies(request)
        return self._replies[min(index, len(self._replies) - 1)]

    async def complete(self, request: UpstreamRequest) -> Completion:
        """The next scripted reply, whole."""
        if self._delay_s > 0:
            await asyncio.sleep(self._delay_s)
        text = self._next_reply(request)
        return Completion(
            text=text,
            model=self._model,
            prompt_tokens=sum(len(m.content.split()) for m in request.messages),
            completion_tokens=len(text.split()),
        )

    async def stream(self, request: UpstreamRequest) -> AsyncIterator[str]:
        """The next scripted reply in ``chunk_chars`` pieces."""
        text = self._next_reply(request)
        for start in range(0, len(text), self._chunk_chars):
            if self._delay_s > 0:
                await asyncio.sleep(self._delay_s)
            piece = text[start : start + self._chunk_chars]
            with self._lock:
                self.streamed_chars += len(piece)
            yield piece
