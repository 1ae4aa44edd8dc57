"""The oversight store's frozen records and the closed vocabularies they use.

Every record here is a frozen dataclass handed out by a store; stores never hand out
mutable rows. Times are timezone-aware UTC.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from bastion.core.types import Action

__all__ = [
    "GENESIS_HASH",
    "AuditEntry",
    "AuditQuery",
    "ChainReport",
    "EntryKind",
    "ItemStatus",
    "LabelledExample",
    "NewReport",
    "NewReview",
    "Report",
    "ReportKind",
    "ReviewDecision",
    "ReviewItem",
    "ReviewOutcome",
    "ReviewReason",
    "StatsBucket",
]

GENESIS_HASH = "0" * 64
"""The ``prev_hash`` of the first audit entry."""


class EntryKind(StrEnum):
    """What an audit entry records: a gateway ``decision``, a user ``report`` (or appeal)
    or a reviewer's ``review`` decision."""

    DECISION = "decision"
    REPORT = "report"
    REVIEW = "review"


class ReviewReason(StrEnum):
    """Why an item is in the review queue.

    ``escalated``: the guard set the review flag. ``low_confidence``: the score lay within
    the store's band of the deciding layer's threshold. ``report``: a user flagged an
    answer or a refusal. ``appeal``: a user appealed a refusal.
    """

    ESCALATED = "escalated"
    LOW_CONFIDENCE = "low_confidence"
    REPORT = "report"
    APPEAL = "appeal"


class ReportKind(StrEnum):
    """``report``: a bad answer or a wrong decision. ``appeal``: contest a refusal."""

    REPORT = "report"
    APPEAL = "appeal"


class ItemStatus(StrEnum):
    """``open``: waiting for a reviewer. ``resolved``: a review decision exists."""

    OPEN = "open"
    RESOLVED = "resolved"


class ReviewOutcome(StrEnum):
    """``uphold``: the gateway's decision was right. ``overturn``: it was wrong."""

    UPHOLD = "uphold"
    OVERTURN = "overturn"


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One link of the append-only, hash-chained audit log.

    Attributes:
        seq: position in the chain, 1-based, without gaps.
        id: unique id (uuid4 hex).
        kind: what the entry records.
        created_at: when it was appended.
        request_id: the gateway request it belongs to (decisions, reports), if any.
        direction: decisions: ``input`` | ``output`` | ``stream``; else None.
        action: decisions: the action taken; reviews: the action the reviewer says was
            right; reports: None.
        category: the deciding (or corrected) policy category, if any.
        score: decisions: probability unsafe; else None.
        review: decisions: the guard's review flag.
        latency_ms: decisions: summed layer latency.
        supersedes: reviews: the id of the decision entry they supersede.
        payload: the canonical content, already redacted. Decisions:
            ``{"messages": [{"role", "content"}], "response", "enforced",
            "decision": Decision.to_dict()}``; reports: ``{"report": {...}}``;
            reviews: ``{"review": {...}}``.
        prev_hash: the previous entry's ``hash`` (:data:`GENESIS_HASH` for the first).
        hash: sha256 over ``prev_hash`` and the canonical JSON of every field above.
    """

    seq: int
    id: str
    kind: EntryKind
    created_at: datetime
    request_id: str | None
    direction: str | None
    action: str | None
    category: str | None
    score: float | None
    review: bool
    latency_ms: float | None
    supersedes: str | None
    payload: Mapping[str, Any] = field(repr=False)
    prev_hash: str
    hash: str


@dataclass(frozen=True, slots=True)
class AuditQuery:
    """Filters for audit search; every set field must match (AND). Newest first.

    Attributes:
        kind: only entries of this kind.
        action: only decisions with this action.
        category: only entries with this category.
        request_id: only entries of this request.
        direction: only decisions of this direction.
        text: case-insensitive substring of the stored (redacted) payload.
        since: created at or after.
        until: created before.
        limit: at most this many entries (1..1000).
        offset: skip this many (newest first).
    """

    kind: EntryKind | None = None
    action: str | None = None
    category: str | None = None
    request_id: str | None = None
    direction: str | None = None
    text: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    limit: int = 50
    offset: int = 0


@dataclass(frozen=True, slots=True)
class ChainReport:
    """What :meth:`AuditLog.verify` found.

    Attributes:
        ok: every link verified.
        entries: how many entries were checked.
        broken_seq: the first entry whose link is broken (None when ok).
        problem: what is wrong with it (hash mismatch, wrong prev_hash, a gap).
    """

    ok: bool
    entries: int
    broken_seq: int | None = None
    problem: str | None = None


@dataclass(frozen=True, slots=True)
class NewReport:
    """A user's report or appeal, as submitted.

    Attributes:
        kind: ``report`` or ``appeal`` (appeals must point at a refusal).
        request_id: the gateway request it is about (the ``id`` of the chat completion
            or guard check).
        reason: the user's words (redacted before storage); may be empty.
        entry_id: the exact decision entry, when the caller knows it; else the store picks
            the request's refusal (appeals) or its latest decision (reports).
        reporter: who reported (an API key name or a dashboard user), if known.
    """

    kind: ReportKind
    request_id: str
    reason: str = ""
    entry_id: str | None = None
    reporter: str | None = None


@dataclass(frozen=True, slots=True)
class Report:
    """A stored report or appeal; also appended to the audit log with the same id."""

    id: str
    kind: ReportKind
    request_id: str
    entry_id: str
    reason: str
    reporter: str | None
    created_at: datetime
    item_id: str


@dataclass(frozen=True, slots=True)
class ReviewItem:
    """One item of the review queue.

    Attributes:
        id: unique id.
        entry_id: the decision entry under review.
        reason: why it is queued.
        created_at: when it was queued.
        status: ``open`` until a review decision exists.
        request_id: the decision's request.
        action: the decision's action.
        category: the decision's category.
        score: the decision's score.
        excerpt: the last user message (redacted, at most 200 characters).
        report_id: the report or appeal that queued it, if any.
        resolution_id: the review decision that resolved it, if any.
    """

    id: str
    entry_id: str
    reason: ReviewReason
    created_at: datetime
    status: ItemStatus
    request_id: str | None
    action: str | None
    category: str | None
    score: float | None
    excerpt: str
    report_id: str | None = None
    resolution_id: str | None = None


@dataclass(frozen=True, slots=True)
class NewReview:
    """A reviewer's verdict on a queue item.

    Attributes:
        outcome: ``uphold`` or ``overturn``.
        rationale: why (required, not empty).
        reviewer: who decided (a username or a key name).
        action: overturns: the action that would have been right (required, and different
            from the decision's); upholds: ignored (the original action stands).
        category: overturns: the right category, when the decision's was wrong or missing.
    """

    outcome: ReviewOutcome
    rationale: str
    reviewer: str
    action: Action | None = None
    category: str | None = None


@dataclass(frozen=True, slots=True)
class ReviewDecision:
    """A stored review decision: a new audit entry that supersedes the decision entry.

    Attributes:
        id: unique id (also the id of its audit entry).
        item_id: the queue item it resolves.
        supersedes: the decision entry it judges.
        outcome: uphold or overturn.
        original_action: the gateway's action.
        action: the action the reviewer says is right.
        category: the category the reviewer says is right (may be None).
        rationale: the reviewer's reason.
        reviewer: who decided.
        created_at: when.
    """

    id: str
    item_id: str
    supersedes: str
    outcome: ReviewOutcome
    original_action: str
    action: str
    category: str | None
    rationale: str
    reviewer: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class LabelledExample:
    """An overturned decision as a training example (one line of ``export-labels``).

    Attributes:
        text: the user's prompt (``input`` decisions) or the reply (``output``/``stream``),
            as stored (redacted).
        label: 1 unsafe (the right action was not ``allow``), 0 safe.
        category: the reviewer's category, else the decision's (None for safe examples).
        direction: the decision's direction.
        source: always ``human_review``.
        review_id: the review decision.
        entry_id: the decision entry it supersedes.
    """

    text: str
    label: int
    category: str | None
    direction: str
    source: str
    review_id: str
    entry_id: str


@dataclass(frozen=True, slots=True)
class StatsBucket:
    """Counts over one time bucket, for charts.

    Attributes:
        start: the bucket's start (UTC).
        decisions: decision entries.
        by_action: decisions per action.
        by_category: decisions per category (``none`` for no category).
        refusals: decisions with action ``refuse``.
        reports: reports and appeals.
        latency_ms_p50: median decision latency (None without decisions).
        latency_ms_p95: 95th percentile decision latency.
    """

    start: datetime
    decisions: int
    by_action: Mapping[str, int]
    by_category: Mapping[str, int]
    refusals: int
    reports: int
    latency_ms_p50: float | None
    latency_ms_p95: float | None

    @property
    def refusal_rate(self) -> float:
        """Refusals per decision (0 without decisions)."""
        return self.refusals / self.decisions if self.decisions else 0.0
