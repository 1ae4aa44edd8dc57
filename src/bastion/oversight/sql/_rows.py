"""Rows to frozen records and back."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from bastion.oversight.access import ApiKey, Scope, User
from bastion.oversight.chain import canonical_json
from bastion.oversight.sql.models import ApiKeyRow, EntryRow, ItemRow, ReportRow, UserRow
from bastion.oversight.types import (
    AuditEntry,
    EntryKind,
    ItemStatus,
    Report,
    ReportKind,
    ReviewItem,
    ReviewReason,
)

__all__ = [
    "entry_from_row",
    "entry_row",
    "item_from_row",
    "item_row",
    "key_from_row",
    "report_from_row",
    "report_row",
    "user_from_row",
    "utc",
]


def utc(value: datetime) -> datetime:
    """SQLite hands back naive datetimes: they were stored as UTC."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def entry_row(entry: AuditEntry) -> EntryRow:
    """The row of an entry."""
    return EntryRow(
        seq=entry.seq,
        id=entry.id,
        kind=entry.kind.value,
        created_at=entry.created_at,
        request_id=entry.request_id,
        direction=entry.direction,
        action=entry.action,
        category=entry.category,
        score=entry.score,
        review=entry.review,
        latency_ms=entry.latency_ms,
        supersedes=entry.supersedes,
        payload=canonical_json(entry.payload),
        prev_hash=entry.prev_hash,
        hash=entry.hash,
    )


def entry_from_row(row: EntryRow) -> AuditEntry:
    """The entry of a row."""
    return AuditEntry(
        seq=row.seq,
        id=row.id,
        kind=EntryKind(row.kind),
        created_at=utc(row.created_at),
        request_id=row.request_id,
        direction=row.direction,
        action=row.action,
        category=row.category,
        score=row.score,
        review=bool(row.review),
        latency_ms=row.latency_ms,
        supersedes=row.supersedes,
        payload=json.loads(row.payload),
        prev_hash=row.prev_hash,
        hash=row.hash,
    )


def item_row(item: ReviewItem) -> ItemRow:
    """The row of a queue item."""
    return ItemRow(
        id=item.id,
        entry_id=item.entry_id,
        reason=item.reason.value,
        created_at=item.created_at,
        status=item.status.value,
        request_id=item.request_id,
        action=item.action,
        category=item.category,
        score=item.score,
        excerpt=item.excerpt,
        report_id=item.report_id,
        resolution_id=item.resolution_id,
    )


def item_from_row(row: ItemRow) -> ReviewItem:
    """The queue item of a row."""
    return ReviewItem(
        id=row.id,
        entry_id=row.entry_id,
        reason=ReviewReason(row.reason),
        created_at=utc(row.created_at),
        status=ItemStatus(row.status),
        request_id=row.request_id,
        action=row.action,
        category=row.category,
        score=row.score,
        excerpt=row.excerpt,
        report_id=row.report_id,
        resolution_id=row.resolution_id,
    )


def report_row(report: Report) -> ReportRow:
    """The row of a report."""
    return ReportRow(
        id=report.id,
        kind=report.kind.value,
        request_id=report.request_id,
        entry_id=report.entry_id,
        reason=report.reason,
        reporter=report.reporter,
        created_at=report.created_at,
        item_id=report.item_id,
    )


def report_from_row(row: ReportRow) -> Report:
    """The report of a row."""
    return Report(
        id=row.id,
        kind=ReportKind(row.kind),
        request_id=row.request_id,
        entry_id=row.entry_id,
        reason=row.reason,
        reporter=row.reporter,
        created_at=utc(row.created_at),
        item_id=row.item_id,
    )


def key_from_row(row: ApiKeyRow) -> ApiKey:
    """The key of a row."""
    revoked = utc(row.revoked_at) if row.revoked_at is not None else None
    return ApiKey(row.id, row.name, Scope(row.scope), utc(row.created_at), revoked)


def user_from_row(row: UserRow) -> User:
    """The user of a row."""
    return User(row.username, Scope(row.role), utc(row.created_at))
