"""Guard decisions as records: what was checked (summarised) and what was decided."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from bastion.core.types import Message, Role, as_messages
from bastion.core.verdict import Decision
from bastion.records.model import Clock, Record, RecordKind, new_id, new_record

__all__ = ["EXCERPT_CHARS", "decision_record", "input_summary"]

# Enough for a reviewer to see what was asked without copying whole documents around.
EXCERPT_CHARS = 2000


def decision_record(
    decision: Decision,
    *,
    messages: str | Sequence[Message | Mapping[str, Any]],
    response: str | None = None,
    clock: Clock,
    source: str | None = None,
    id_factory: Callable[[], str] = new_id,
) -> Record:
    """A ``guard_decision`` record: ``{"input": summary, "decision": decision.to_dict()}``.

    Args:
        decision: what the guard decided.
        messages: the conversation that was checked (a user string or messages).
        response: the assistant reply that was judged, if any.
        clock: returns the current UTC time.
        source: where the input came from, e.g. ``prompts.jsonl:12``.
        id_factory: makes the record's id.

    Raises:
        InputError: ``messages`` is malformed.
    """
    summary = input_summary(as_messages(messages), response)
    if source is not None:
        summary["source"] = source
    payload = {"input": summary, "decision": decision.to_dict()}
    return new_record(RecordKind.GUARD_DECISION, payload, clock=clock, id_factory=id_factory)


def input_summary(messages: Sequence[Message], response: str | None) -> dict[str, Any]:
    """Size, fingerprint and excerpts of a checked conversation.

    ``sha256`` covers every role and content (and the response), so identical inputs can
    be joined across runs without storing them whole.
    """
    last_user = next((m.content for m in reversed(messages) if m.role is Role.USER), "")
    return {
        "turns": len(messages),
        "chars": sum(len(m.content) for m in messages),
        "sha256": _fingerprint(messages, response),
        "last_user": _excerpt(last_user),
        "response": None if response is None else _excerpt(response),
    }


def _fingerprint(messages: Sequence[Message], response: str | None) -> str:
    digest = hashlib.sha256()
    for message in messages:
        digest.update(f"{message.role.value}\x00{len(message.content)}\x00".encode())
        # surrogatepass: text from undecodable argv must hash, not crash
        digest.update(message.content.encode("utf-8", "surrogatepass"))
    if response is not None:
        digest.update(b"\x00response\x00" + response.encode("utf-8", "surrogatepass"))
    return digest.hexdigest()


def _excerpt(text: str) -> str:
    return text if len(text) <= EXCERPT_CHARS else text[: EXCERPT_CHARS - 1] + "…"
