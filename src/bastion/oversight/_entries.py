"""What both stores share: turning events, reports and reviews into entries and items."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from bastion.core.errors import InputError
from bastion.core.types import Action
from bastion.oversight.chain import Draft
from bastion.oversight.config import OversightConfig
from bastion.oversight.errors import NotFoundError
from bastion.oversight.redact import Redactor
from bastion.oversight.store import DecidedTurn
from bastion.oversight.types import (
    AuditEntry,
    AuditQuery,
    EntryKind,
    ItemStatus,
    LabelledExample,
    NewReport,
    NewReview,
    Report,
    ReportKind,
    ReviewDecision,
    ReviewItem,
    ReviewOutcome,
    ReviewReason,
    StatsBucket,
)

__all__ = [
    "EXCERPT_CHARS",
    "StatRow",
    "decision_draft",
    "excerpt",
    "excerpt_full",
    "labelled_example",
    "matches",
    "pick_target",
    "queue_item",
    "report_draft",
    "review_draft",
    "review_from_entry",
    "stats_buckets",
    "triage",
]

EXCERPT_CHARS = 200
# Fields of a decision that are vocabulary, never personal data (identifier fields are
# kept by the redactor itself: ``IDENTIFIER_FIELDS``).
_KEEP = frozenset(
    {
        "action",
        "category",
        "subcategory",
        "code",
        "intent",
        "limit",
        "layer",
        "context",
        "policy",
        "role",
        "method",
        "response_kind",
    }
)


def decision_draft(
    event: DecidedTurn, *, redactor: Redactor, entry_id: str, now: datetime
) -> Draft:
    """The audit draft of one gateway decision, its free text redacted (the request id is an
    identifier: it is kept as is so the reply can be found and appealed)."""
    decision = event.decision
    raw = {
        "messages": [{"role": m.role.value, "content": m.content} for m in event.messages],
        "response": event.response,
        "enforced": event.enforced,
        "decision": decision.to_dict(),
    }
    return Draft(
        id=entry_id,
        kind=EntryKind.DECISION,
        created_at=now,
        payload=redactor.tree(raw, keep=_KEEP),
        request_id=event.request_id,
        direction=event.direction,
        action=decision.action.value,
        category=decision.category,
        score=round(float(decision.score), 6) if math.isfinite(decision.score) else 1.0,
        review=decision.review,
        latency_ms=round(float(sum(v.latency_ms for v in decision.verdicts)), 3),
    )


def triage(draft: Draft, config: OversightConfig) -> ReviewReason | None:
    """Why a decision goes to the queue, or None: escalated first, then low confidence."""
    if draft.kind is not EntryKind.DECISION:
        return None
    if draft.review:
        return ReviewReason.ESCALATED
    layer = str(draft.payload.get("decision", {}).get("layer", ""))
    band = config.low_confidence_band
    near = draft.score is not None and abs(draft.score - config.threshold(layer)) <= band
    return ReviewReason.LOW_CONFIDENCE if band > 0 and near else None


def excerpt(entry: AuditEntry) -> str:
    """The last user message of a decision entry, at most :data:`EXCERPT_CHARS`."""
    messages = entry.payload.get("messages") or []
    text = next((m["content"] for m in reversed(messages) if m.get("role") == "user"), "")
    text = str(text)
    return text if len(text) <= EXCERPT_CHARS else text[: EXCERPT_CHARS - 1] + "…"


def queue_item(
    entry: AuditEntry,
    reason: ReviewReason,
    *,
    item_id: str,
    now: datetime,
    report_id: str | None = None,
) -> ReviewItem:
    """A new open queue item for decision ``entry``."""
    return ReviewItem(
        id=item_id,
        entry_id=entry.id,
        reason=reason,
        created_at=now,
        status=ItemStatus.OPEN,
        request_id=entry.request_id,
        action=entry.action,
        category=entry.category,
        score=entry.score,
        excerpt=excerpt(entry),
        report_id=report_id,
    )


def pick_target(report: NewReport, candidates: Sequence[AuditEntry]) -> AuditEntry:
    """The decision a report is about: the named entry, else the request's refusal
    (appeals) or its latest decision (reports).

    Raises:
        NotFoundError: no such decision.
        InputError: an appeal of a decision that is not a refusal.
    """
    decisions = [e for e in candidates if e.kind is EntryKind.DECISION]
    if report.entry_id is not None:
        decisions = [e for e in decisions if e.id == report.entry_id]
    if not decisions:
        raise NotFoundError("decision for request", report.entry_id or report.request_id)
    if report.kind is ReportKind.APPEAL:
        refusals = [e for e in decisions if e.action == Action.REFUSE.value]
        if not refusals:
            raise InputError("only a refusal can be appealed; this request was not refused")
        return max(refusals, key=lambda e: e.seq)
    return max(decisions, key=lambda e: e.seq)


def report_draft(
    report: NewReport,
    target: AuditEntry,
    *,
    redactor: Redactor,
    ids: tuple[str, str],
    now: datetime,
) -> tuple[Draft, Report]:
    """The audit draft and stored form of a report; ``ids`` is ``(report_id, item_id)``."""
    stored = Report(
        id=ids[0],
        kind=report.kind,
        request_id=target.request_id or report.request_id,
        entry_id=target.id,
        reason=redactor.text(report.reason.strip())[:4000],
        reporter=report.reporter,
        created_at=now,
        item_id=ids[1],
    )
    payload = {
        "report": {
            "kind": stored.kind.value,
            "entry_id": stored.entry_id,
            "reason": stored.reason,
            "reporter": stored.reporter,
            "item_id": stored.item_id,
        }
    }
    draft = Draft(
        id=stored.id,
        kind=EntryKind.REPORT,
        created_at=now,
        payload=payload,
        request_id=stored.request_id,
        category=target.category,
    )
    return draft, stored


def review_draft(
    item: ReviewItem,
    target: AuditEntry,
    review: NewReview,
    *,
    review_id: str,
    now: datetime,
) -> tuple[Draft, ReviewDecision]:
    """The audit draft and stored form of a review decision on an open ``item``.

    Raises:
        InputError: empty rationale or reviewer, or an overturn without a different action.
    """
    rationale, reviewer = review.rationale.strip(), review.reviewer.strip()
    if not rationale:
        raise InputError("a review decision needs a rationale")
    if not reviewer:
        raise InputError("a review decision needs a reviewer")
    original = target.action or Action.ALLOW.value
    action, category = original, target.category
    if review.outcome is ReviewOutcome.OVERTURN:
        if review.action is None or review.action.value == original:
            raise InputError(f"an overturn must name an action other than {original!r}")
        action = review.action.value
        category = review.category or (None if action == Action.ALLOW.value else category)
    decision = ReviewDecision(
        id=review_id,
        item_id=item.id,
        supersedes=target.id,
        outcome=review.outcome,
        original_action=original,
        action=action,
        category=category,
        rationale=rationale[:4000],
        reviewer=reviewer[:200],
        created_at=now,
    )
    return _review_entry(decision, target), decision


def _review_entry(decision: ReviewDecision, target: AuditEntry) -> Draft:
    payload: dict[str, Any] = {
        "review": {
            "item_id": decision.item_id,
            "outcome": decision.outcome.value,
            "original_action": decision.original_action,
            "rationale": decision.rationale,
            "reviewer": decision.reviewer,
        }
    }
    return Draft(
        id=decision.id,
        kind=EntryKind.REVIEW,
        created_at=decision.created_at,
        payload=payload,
        request_id=target.request_id,
        direction=target.direction,
        action=decision.action,
        category=decision.category,
        supersedes=target.id,
    )


def review_from_entry(entry: AuditEntry) -> ReviewDecision:
    """Read a review decision back from its audit entry."""
    body = entry.payload["review"]
    return ReviewDecision(
        id=entry.id,
        item_id=str(body["item_id"]),
        supersedes=str(entry.supersedes),
        outcome=ReviewOutcome(body["outcome"]),
        original_action=str(body["original_action"]),
        action=str(entry.action),
        category=entry.category,
        rationale=str(body["rationale"]),
        reviewer=str(body["reviewer"]),
        created_at=entry.created_at,
    )


def labelled_example(decision: ReviewDecision, target: AuditEntry) -> LabelledExample | None:
    """An overturned decision as a training example; None for upholds or empty text."""
    if decision.outcome is not ReviewOutcome.OVERTURN:
        return None
    direction = target.direction or "input"
    text = (
        excerpt_full(target) if direction == "input" else str(target.payload.get("response") or "")
    )
    if not text.strip():
        return None
    unsafe = decision.action != Action.ALLOW.value
    return LabelledExample(
        text=text,
        label=int(unsafe),
        category=decision.category if unsafe else None,
        direction=direction,
        source="human_review",
        review_id=decision.id,
        entry_id=target.id,
    )


def excerpt_full(entry: AuditEntry) -> str:
    """The whole last user message of a decision entry."""
    messages = entry.payload.get("messages") or []
    return str(next((m["content"] for m in reversed(messages) if m.get("role") == "user"), ""))


def matches(
    entry: AuditEntry, query: AuditQuery, payload_text: Callable[[AuditEntry], str]
) -> bool:
    """Whether ``entry`` passes every filter of ``query`` (the in-memory search)."""
    checks = (
        (query.kind, entry.kind),
        (query.action, entry.action),
        (query.category, entry.category),
        (query.request_id, entry.request_id),
        (query.direction, entry.direction),
    )
    if any(wanted is not None and wanted != value for wanted, value in checks):
        return False
    if query.since is not None and entry.created_at < query.since:
        return False
    if query.until is not None and entry.created_at >= query.until:
        return False
    return query.text is None or query.text.lower() in payload_text(entry).lower()


@dataclass(frozen=True, slots=True)
class StatRow:
    """The columns charts need of one entry."""

    created_at: datetime
    kind: EntryKind
    action: str | None
    category: str | None
    latency_ms: float | None


def stats_buckets(
    rows: Iterable[StatRow], *, since: datetime, until: datetime, bucket: timedelta
) -> tuple[StatsBucket, ...]:
    """Group ``rows`` into buckets of ``bucket`` from ``since`` to ``until``."""
    if bucket <= timedelta(0):
        raise InputError("the stats bucket must be positive")
    count = max(0, math.ceil((until - since) / bucket))
    if count > 10_000:
        raise InputError("too many stats buckets; use a larger bucket")
    groups: list[list[StatRow]] = [[] for _ in range(count)]
    for row in rows:
        index = int((row.created_at - since) / bucket)
        if 0 <= index < count:
            groups[index].append(row)
    return tuple(_bucket(since + i * bucket, group) for i, group in enumerate(groups))


def _bucket(start: datetime, rows: list[StatRow]) -> StatsBucket:
    decisions = [r for r in rows if r.kind is EntryKind.DECISION]
    latencies = sorted(r.latency_ms for r in decisions if r.latency_ms is not None)
    return StatsBucket(
        start=start,
        decisions=len(decisions),
        by_action=dict(Counter(r.action or "none" for r in decisions)),
        by_category=dict(Counter(r.category or "none" for r in decisions)),
        refusals=sum(1 for r in decisions if r.action == Action.REFUSE.value),
        reports=sum(1 for r in rows if r.kind is EntryKind.REPORT),
        latency_ms_p50=_quantile(latencies, 0.5),
        latency_ms_p95=_quantile(latencies, 0.95),
    )


def _quantile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    return values[min(len(values) - 1, int(q * len(values)))]
