"""The upstream protocol: what the gateway forwards a guarded conversation to.

One small protocol with two methods, ``complete`` (a whole reply) and ``stream`` (the
reply as text deltas). Three implementations ship: ``ScriptedUpstream`` (canned replies,
used by tests), ``OpenAICompatibleUpstream`` (any OpenAI-compatible URL) and
``EmbeddedUpstream`` (a local GGUF model, no network).
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from bastion.core.errors import UpstreamError
from bastion.core.types import Message

__all__ = ["Completion", "Upstream", "UpstreamError", "UpstreamRequest", "scrub_text"]

_UNSAFE = re.compile("[\x00\ud800-\udfff]")


@dataclass(frozen=True, slots=True)
class UpstreamRequest:
    """A guarded conversation to answer.

    Attributes:
        messages: the conversation, safety instruction included when the guard asked for
            one.
        model: the model the client asked for, or None.
        max_tokens: most new tokens, or None for the upstream's default.
        temperature: sampling temperature, or None for the upstream's default.
    """

    messages: tuple[Message, ...]
    model: str | None = None
    max_tokens: int | None = None
    temperature: float | None = None


@dataclass(frozen=True, slots=True)
class Completion:
    """A whole reply.

    Attributes:
        text: the assistant's reply.
        model: the model that answered.
        finish_reason: ``stop`` | ``length`` (as the upstream said).
        prompt_tokens: tokens read, when the upstream counts them.
        completion_tokens: tokens written, when the upstream counts them.
    """

    text: str
    model: str
    finish_reason: str = "stop"
    prompt_tokens: int = 0
    completion_tokens: int = 0


@runtime_checkable
class Upstream(Protocol):
    """A chat model behind the gateway."""

    async def complete(self, request: UpstreamRequest) -> Completion:
        """The whole reply to ``request``.

        Raises:
            UpstreamError: the upstream could not answer.
        """
        ...

    def stream(self, request: UpstreamRequest) -> AsyncIterator[str]:
        """The reply as text deltas, in order (an async generator; closing it stops it).

        Raises:
            UpstreamError: the upstream could not answer (possibly mid-stream).
        """
        ...


def scrub_text(text: str) -> str:
    """Replace what UTF-8 cannot carry (lone surrogates) and NULs with U+FFFD."""
    return _UNSAFE.sub("\ufffd", text)
