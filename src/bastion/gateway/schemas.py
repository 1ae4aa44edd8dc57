"""Request bodies (validated by FastAPI) and the OpenAI-format replies the gateway builds.

Requests accept the OpenAI fields the gateway uses and ignore the rest, so unmodified
OpenAI clients work; the types of the fields used are strict and a wrong one is a 400.
"""

from __future__ import annotations

import time
import uuid
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictStr

from bastion.core.types import Message, Role
from bastion.core.verdict import Decision
from bastion.gateway.upstream import scrub_text

__all__ = [
    "MAX_LIMIT",
    "MAX_OFFSET",
    "ChatMessage",
    "ChatRequest",
    "CheckBody",
    "ModerationBody",
    "TextPart",
    "chat_completion",
    "chunk",
    "decision_summary",
    "new_id",
    "to_messages",
]

_MAX_MESSAGES = 1000

MAX_OFFSET = 2**31 - 1
"""The largest ``offset`` a paginated route (API or dashboard) accepts. Past it the
request is a 400: SQL backends bind 64-bit integers, and an unbounded value used to
surface as a 500 (OverflowError). Pages that deep are better reached with filters."""

MAX_LIMIT = 1000
"""The largest ``limit`` (page size) of a paginated API route."""


class _Lenient(BaseModel):
    """Unknown fields are ignored (OpenAI clients send many)."""

    model_config = ConfigDict(extra="ignore", frozen=True)


class TextPart(_Lenient):
    """One part of a multi-part content list; only text parts are supported."""

    type: Literal["text"]
    text: StrictStr


class ChatMessage(_Lenient):
    """One OpenAI chat message."""

    role: Literal["system", "developer", "user", "assistant", "tool"]
    content: StrictStr | list[TextPart] | None = None


class ChatRequest(_Lenient):
    """``POST /v1/chat/completions`` (the fields the gateway uses)."""

    model: StrictStr | None = None
    messages: list[ChatMessage] = Field(min_length=1, max_length=_MAX_MESSAGES)
    stream: StrictBool = False
    max_tokens: int | None = Field(default=None, ge=1, le=32_768)
    max_completion_tokens: int | None = Field(default=None, ge=1, le=32_768)
    temperature: float | None = Field(default=None, ge=0, le=2)


class ModerationBody(_Lenient):
    """``POST /v1/moderations``: one text or a list of texts."""

    input: StrictStr | Annotated[list[StrictStr], Field(min_length=1, max_length=256)]
    model: StrictStr | None = None


class CheckBody(_Lenient):
    """``POST /v1/guard/check``: a user turn (input check) or a reply (output check).

    Attributes:
        messages: a user message, or the conversation as OpenAI messages.
        response: the assistant reply to judge; None checks the last user turn.
        context: the deployment context (an API key mapping still wins).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    messages: (
        StrictStr | Annotated[list[ChatMessage], Field(min_length=1, max_length=_MAX_MESSAGES)]
    )
    response: StrictStr | None = None
    context: StrictStr | None = None


def to_messages(value: str | list[ChatMessage]) -> tuple[Message, ...]:
    """Core messages, with text the upstream cannot carry (lone surrogates, NUL) replaced."""
    if isinstance(value, str):
        return (Message(Role.USER, scrub_text(value)),)
    return tuple(Message(Role(m.role), scrub_text(_text(m.content))) for m in value)


def _text(content: str | list[TextPart] | None) -> str:
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    return "\n".join(part.text for part in content)


def new_id(prefix: str) -> str:
    """An OpenAI-style id, e.g. ``chatcmpl-3f2b...``."""
    return f"{prefix}-{uuid.uuid4().hex}"


def chat_completion(
    *,
    request_id: str,
    model: str,
    text: str,
    finish_reason: str,
    bastion: dict[str, Any],
    usage: tuple[int, int] = (0, 0),
) -> dict[str, Any]:
    """A ``chat.completion`` object; ``bastion`` carries the decisions (clients ignore it)."""
    return {
        "id": request_id,
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": text},
                "finish_reason": finish_reason,
            }
        ],
        "usage": {
            "prompt_tokens": usage[0],
            "completion_tokens": usage[1],
            "total_tokens": usage[0] + usage[1],
        },
        "bastion": bastion,
    }


def chunk(
    *, request_id: str, model: str, delta: dict[str, Any], finish_reason: str | None = None
) -> dict[str, Any]:
    """A ``chat.completion.chunk`` event."""
    return {
        "id": request_id,
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": model,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason}],
    }


def decision_summary(decision: Decision) -> dict[str, Any]:
    """A decision without per-layer detail, for the ``bastion`` field of replies."""
    return decision.to_dict(verdicts=False)
