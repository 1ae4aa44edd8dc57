"""The audit log's hash chain: canonical content, sealing and verification.

An entry's ``hash`` is ``sha256(prev_hash + "\\n" + canonical)``, where ``canonical`` is
the JSON (sorted keys, no spaces, UTF-8) of every field of the entry except ``hash``
itself, ``prev_hash`` included. Editing any stored field, deleting or inserting an entry,
or reordering entries breaks the chain at that entry.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from bastion.oversight.types import GENESIS_HASH, AuditEntry, ChainReport, EntryKind

__all__ = ["Draft", "canonical_json", "entry_hash", "seal", "verify_entries"]


@dataclass(frozen=True, slots=True)
class Draft:
    """An entry before it has a place in the chain (no seq, no hashes yet)."""

    id: str
    kind: EntryKind
    created_at: datetime
    payload: Mapping[str, Any] = field(repr=False)
    request_id: str | None = None
    direction: str | None = None
    action: str | None = None
    category: str | None = None
    score: float | None = None
    review: bool = False
    latency_ms: float | None = None
    supersedes: str | None = None


def canonical_json(value: Any) -> str:
    """The one JSON spelling of ``value`` that hashes are computed over."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _content(entry: AuditEntry) -> dict[str, Any]:
    return {
        "seq": entry.seq,
        "id": entry.id,
        "kind": entry.kind.value,
        "created_at": entry.created_at.astimezone(UTC).isoformat(),
        "request_id": entry.request_id,
        "direction": entry.direction,
        "action": entry.action,
        "category": entry.category,
        "score": entry.score,
        "review": entry.review,
        "latency_ms": entry.latency_ms,
        "supersedes": entry.supersedes,
        "payload": entry.payload,
        "prev_hash": entry.prev_hash,
    }


def entry_hash(entry: AuditEntry) -> str:
    """The hash ``entry`` should carry, computed from its other fields."""
    text = entry.prev_hash + "\n" + canonical_json(_content(entry))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def seal(draft: Draft, *, seq: int, prev_hash: str) -> AuditEntry:
    """Give ``draft`` its place after the entry whose hash is ``prev_hash``."""
    entry = AuditEntry(
        seq=seq,
        id=draft.id,
        kind=draft.kind,
        created_at=draft.created_at.astimezone(UTC),
        request_id=draft.request_id,
        direction=draft.direction,
        action=draft.action,
        category=draft.category,
        score=draft.score,
        review=draft.review,
        latency_ms=draft.latency_ms,
        supersedes=draft.supersedes,
        payload=draft.payload,
        prev_hash=prev_hash,
        hash="",
    )
    return replace(entry, hash=entry_hash(entry))


def verify_entries(entries: Iterable[AuditEntry]) -> ChainReport:
    """Check ``entries`` (in ``seq`` order, from the first) and name the first broken link."""
    prev, expected_seq, count = GENESIS_HASH, 1, 0
    for entry in entries:
        count += 1
        problem = None
        if entry.seq != expected_seq:
            problem = f"expected entry {expected_seq} here, found {entry.seq} (missing entries)"
        elif entry.prev_hash != prev:
            problem = "prev_hash does not match the previous entry's hash"
        elif entry_hash(entry) != entry.hash:
            problem = "content does not match its hash (the entry was altered)"
        if problem is not None:
            return ChainReport(ok=False, entries=count, broken_seq=entry.seq, problem=problem)
        prev, expected_seq = entry.hash, expected_seq + 1
    return ChainReport(ok=True, entries=count)
