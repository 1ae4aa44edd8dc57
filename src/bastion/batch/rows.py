"""Batch rows: what a reader yields, what the guard is asked, what a writer gets."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bastion.core.errors import InputError
from bastion.core.types import Message, as_messages
from bastion.core.verdict import Decision

__all__ = [
    "RAW_EXCERPT_CHARS",
    "DecidedRow",
    "RowInput",
    "SourceRow",
    "decided_output",
    "error_output",
    "parse_row",
]

RAW_EXCERPT_CHARS = 1000


@dataclass(frozen=True, slots=True)
class SourceRow:
    """One row as read from a batch file.

    Attributes:
        line: 1-based line in the file (JSONL; for CSV the line the record starts on;
            for Parquet the row number).
        data: the row's fields, or None when the row could not be parsed at all.
        raw: the row as read, kept for error reports: bytes or text as read, or the
            parsed row itself (Parquet), rendered as JSON only if it is reported.
        error: why the row could not be read (bad JSON, invalid UTF-8, ...), or None.
    """

    line: int
    data: dict[str, Any] | None
    raw: object
    error: str | None = None

    def excerpt(self) -> str:
        """The first characters of the raw row, undecodable bytes replaced."""
        raw = self.raw
        if isinstance(raw, bytes):  # 4 bytes per character at most
            return raw[: RAW_EXCERPT_CHARS * 4].decode("utf-8", "replace")[:RAW_EXCERPT_CHARS]
        if not isinstance(raw, str):
            try:
                raw = json.dumps(raw, ensure_ascii=False, default=str)
            except (ValueError, RecursionError):
                raw = f"<unprintable {type(raw).__name__}>"
        return raw[:RAW_EXCERPT_CHARS]


@dataclass(frozen=True, slots=True)
class RowInput:
    """What the guard is asked for one row."""

    messages: tuple[Message, ...]
    response: str | None = None
    context: str | None = None


@dataclass(frozen=True, slots=True)
class DecidedRow:
    """A row the guard decided, handed to an ``on_decision`` callback."""

    line: int
    input: RowInput
    decision: Decision


def parse_row(data: object) -> RowInput:
    """Validate a row: ``text`` or ``messages``, optional ``response`` and ``context``.

    ``messages`` may be a list of ``{role, content}`` objects or that list as JSON text
    (as CSV stores it). A row with both ``text`` and ``messages`` is ambiguous and bad.

    Raises:
        InputError: the row is not an object or a field has the wrong type.
    """
    if not isinstance(data, Mapping):
        raise InputError(f"a row must be a JSON object, got {type(data).__name__}")
    text, messages = data.get("text"), data.get("messages")
    if text is not None and messages is not None:
        raise InputError("row has both 'text' and 'messages'; give one")
    if messages is not None:
        chat = as_messages(_message_list(messages))
    elif isinstance(text, str):
        chat = as_messages(text)
    elif text is None:
        raise InputError("row has neither 'text' nor 'messages'")
    else:
        raise InputError(f"'text' must be a string, got {type(text).__name__}")
    return RowInput(chat, _optional_str(data, "response"), _optional_str(data, "context"))


def _message_list(value: object) -> list[Any]:
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except (ValueError, RecursionError) as exc:
            raise InputError(f"'messages' is not valid JSON: {_short(exc)}") from None
    if not isinstance(value, list):
        raise InputError("'messages' must be a list of {role, content} objects")
    return value


def _optional_str(data: Mapping[str, Any], key: str) -> str | None:
    value = data.get(key)
    if value is None or isinstance(value, str):
        return value
    raise InputError(f"{key!r} must be a string, got {type(value).__name__}")


def _short(exc: BaseException) -> str:
    return str(exc) or type(exc).__name__


def decided_output(row: SourceRow, decision: Decision) -> dict[str, Any]:
    """The output row: the input fields plus ``decision`` (without per-layer verdicts)."""
    out = dict(row.data or {})
    out.pop("error", None)
    out["decision"] = decision.to_dict(verdicts=False)
    return out


def error_output(row: SourceRow, message: str) -> dict[str, Any]:
    """The output row for a bad row: the fields it had, plus ``error``."""
    out = dict(row.data or {})
    out.pop("decision", None)
    out["error"] = {"line": row.line, "error": message, "raw": row.excerpt()}
    return out
