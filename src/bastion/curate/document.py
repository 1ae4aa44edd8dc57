"""A corpus row as the curation stages see it."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

from bastion.core.errors import InputError

__all__ = ["Document", "DocumentKind", "parse_document"]


class DocumentKind(StrEnum):
    """The three row shapes a corpus can have."""

    TEXT = "text"  # a plain document: ``text``
    CHAT = "chat"  # ``messages``: an OpenAI-style list of {role, content}
    PAIR = "pair"  # ``prompt`` + ``response`` (or ``completion``)


@dataclass(frozen=True, slots=True)
class Document:
    """One row of a corpus.

    Attributes:
        id: ``<shard>:<line>``, stable across engines and runs.
        shard: the input shard's name (file name relative to the input folder).
        line: 1-based line (JSON Lines) or row number (Parquet) in the shard.
        kind: text, chat or pair.
        fields: the row as read; written back with the redacted text fields on output.
        text: a plain document's text (kind ``text``).
        prompt: the user side of a pair, or every user turn of a chat joined.
        response: the assistant side of a pair, or every assistant turn of a chat joined.
        messages: a chat's messages as ``(role, content)`` pairs.
    """

    id: str
    shard: str
    line: int
    kind: DocumentKind
    fields: Mapping[str, Any] = field(repr=False)
    text: str = ""
    prompt: str = ""
    response: str = ""
    messages: tuple[tuple[str, str], ...] = ()

    @property
    def content(self) -> str:
        """All of the row's text, as one string (what content-level stages read)."""
        if self.kind is DocumentKind.TEXT:
            return self.text
        if self.kind is DocumentKind.PAIR:
            return f"{self.prompt}\n\n{self.response}"
        return "\n\n".join(content for _role, content in self.messages)

    def map_text(self, change: Any) -> Document:
        """A copy with ``change(str) -> str`` applied to every text field (redaction)."""
        fields = dict(self.fields)
        if self.kind is DocumentKind.TEXT:
            fields["text"] = change(self.text)
            return replace(self, text=fields["text"], fields=fields)
        if self.kind is DocumentKind.PAIR:
            key = "response" if "response" in fields else "completion"
            fields["prompt"], fields[key] = change(self.prompt), change(self.response)
            return replace(self, prompt=fields["prompt"], response=fields[key], fields=fields)
        messages = tuple((role, change(content)) for role, content in self.messages)
        fields["messages"] = [{"role": role, "content": content} for role, content in messages]
        return _chat(replace(self, fields=fields), messages)


def parse_document(data: Mapping[str, Any], *, shard: str, line: int) -> Document:
    """Read a row: ``text``, or ``messages``, or ``prompt`` with ``response``/``completion``.

    Raises:
        InputError: the row has none of these shapes, more than one, or a wrong type.
    """
    shapes = [key for key in ("text", "messages", "prompt") if data.get(key) is not None]
    if not shapes:
        raise InputError("row has none of 'text', 'messages' or 'prompt' + 'response'")
    if len(shapes) > 1:
        raise InputError(f"row has {' and '.join(map(repr, shapes))}; give one shape")
    base = Document(f"{shard}:{line}", shard, line, DocumentKind.TEXT, data)
    if shapes[0] == "text":
        return replace(base, text=_string(data, "text"))
    if shapes[0] == "prompt":
        key = "response" if data.get("response") is not None else "completion"
        response = _string(data, key) if data.get(key) is not None else ""
        return replace(
            base, kind=DocumentKind.PAIR, prompt=_string(data, "prompt"), response=response
        )
    return _chat(replace(base, kind=DocumentKind.CHAT), _messages(data["messages"]))


def _chat(doc: Document, messages: tuple[tuple[str, str], ...]) -> Document:
    prompt = "\n\n".join(c for role, c in messages if role not in ("assistant", "system"))
    response = "\n\n".join(c for role, c in messages if role == "assistant")
    return replace(doc, messages=messages, prompt=prompt, response=response)


def _string(data: Mapping[str, Any], key: str) -> str:
    value = data[key]
    if not isinstance(value, str):
        raise InputError(f"{key!r} must be a string, got {type(value).__name__}")
    return value


def _messages(value: object) -> tuple[tuple[str, str], ...]:
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except (ValueError, RecursionError):
            raise InputError("'messages' is a string but not valid JSON") from None
    if not isinstance(value, list) or not value:
        raise InputError("'messages' must be a non-empty list of {role, content} objects")
    out: list[tuple[str, str]] = []
    for index, message in enumerate(value):
        if not isinstance(message, Mapping):
            raise InputError(f"messages[{index}] must be an object")
        role, content = message.get("role"), message.get("content")
        if not isinstance(role, str) or not isinstance(content, str):
            raise InputError(f"messages[{index}] needs string 'role' and 'content'")
        out.append((role, content))
    return tuple(out)
