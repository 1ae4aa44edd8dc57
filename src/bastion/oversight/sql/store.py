"""The SQL oversight store: SQLite (WAL) or PostgreSQL, migrated on open."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, func, select, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from bastion.core.errors import ConfigError
from bastion.oversight import _entries as ent
from bastion.oversight.chain import Draft, seal, verify_entries
from bastion.oversight.config import OversightConfig
from bastion.oversight.errors import ConflictError, NotFoundError
from bastion.oversight.redact import Redactor
from bastion.oversight.sql._base import SqlAccess, short_error
from bastion.oversight.sql._engine import is_memory, make_engine, normalise_url
from bastion.oversight.sql._migrate import migrate
from bastion.oversight.sql._rows import (
    entry_from_row,
    entry_row,
    item_from_row,
    item_row,
    report_from_row,
    report_row,
    utc,
)
from bastion.oversight.sql.models import EntryRow, ItemRow, ReportRow
from bastion.oversight.store import DecidedTurn
from bastion.oversight.types import (
    GENESIS_HASH,
    AuditEntry,
    AuditQuery,
    ChainReport,
    EntryKind,
    ItemStatus,
    LabelledExample,
    NewReport,
    NewReview,
    Report,
    ReviewDecision,
    ReviewItem,
    ReviewReason,
    StatsBucket,
)
from bastion.records import Clock, new_id, utc_now

__all__ = ["ADVISORY_APPEND", "SqlStore"]

ADVISORY_APPEND = 0x6261_7374_0002
"""The ``pg_advisory_xact_lock`` key every append takes on PostgreSQL."""


class SqlStore(SqlAccess):
    """The oversight store on SQLAlchemy 2. Build it with :meth:`open` (or
    :func:`bastion.oversight.open_store`)."""

    @classmethod
    def open(
        cls,
        url: str,
        *,
        config: OversightConfig | None = None,
        clock: Clock | None = None,
        id_factory: Callable[[], str] = new_id,
    ) -> SqlStore:
        """Connect to ``url`` and apply the migrations.

        Raises:
            ConfigError: a bad URL, a missing driver or an unreachable database.
        """
        parsed = normalise_url(url)
        config = config or OversightConfig()
        try:
            engine = make_engine(parsed, busy_timeout_s=config.write_timeout_s)
            migrate(engine)
        except ModuleNotFoundError as exc:
            raise ConfigError(f"store URL needs the database driver: {exc}") from None
        except SQLAlchemyError as exc:
            raise ConfigError(
                f"cannot open the oversight store {parsed!r}: {short_error(exc)}"
            ) from None
        return cls(
            engine,
            config=config,
            clock=clock or utc_now,
            id_factory=id_factory,
            shared_connection=is_memory(parsed),
        )

    def __init__(self, engine: Any, **kwargs: Any) -> None:
        super().__init__(engine, **kwargs)
        self._redactor = Redactor(self._config.redaction)

    # -- audit ---------------------------------------------------------------------------

    def record(self, event: DecidedTurn) -> None:
        """Append a decision and queue it when needed."""
        self.append_decision(event)

    def append_decision(self, event: DecidedTurn) -> AuditEntry:
        """Append a decision, returning its entry."""
        draft = ent.decision_draft(
            event, redactor=self._redactor, entry_id=self._new_id(), now=self._clock()
        )
        reason = ent.triage(draft, self._config)
        item_id = self._new_id()

        def work(session: Session) -> AuditEntry:
            entry = self._append(session, draft)
            if reason is not None and not _open_for(session, entry.request_id):
                item = ent.queue_item(entry, reason, item_id=item_id, now=draft.created_at)
                session.add(item_row(item))
            return entry

        return self._write(work)

    def _append(self, session: Session, draft: Draft) -> AuditEntry:
        if self._postgres:
            session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": ADVISORY_APPEND})
        last = session.execute(
            select(EntryRow.seq, EntryRow.hash).order_by(EntryRow.seq.desc()).limit(1)
        ).first()
        entry = seal(
            draft,
            seq=last.seq + 1 if last else 1,
            prev_hash=last.hash if last else GENESIS_HASH,
        )
        session.add(entry_row(entry))
        session.flush()
        return entry

    def get_entry(self, entry_id: str) -> AuditEntry:
        """One entry."""
        with self._read() as session:
            row = session.scalars(select(EntryRow).where(EntryRow.id == entry_id)).first()
            if row is None:
                raise NotFoundError("audit entry", entry_id)
            return entry_from_row(row)

    def search(self, query: AuditQuery) -> tuple[AuditEntry, ...]:
        """Matching entries, newest first."""
        stmt = _filtered(select(EntryRow), query).order_by(EntryRow.seq.desc())
        stmt = stmt.offset(max(0, query.offset)).limit(max(1, min(query.limit, 1000)))
        with self._read() as session:
            return tuple(entry_from_row(r) for r in session.scalars(stmt))

    def count(self, query: AuditQuery) -> int:
        """How many entries match."""
        stmt = _filtered(select(func.count()).select_from(EntryRow), query)
        with self._read() as session:
            return int(session.execute(stmt).scalar_one())

    def verify(self) -> ChainReport:
        """Verify the whole chain, streaming it in order."""
        stmt = select(EntryRow).order_by(EntryRow.seq).execution_options(yield_per=1000)
        with self._read() as session:
            rows = session.scalars(stmt)
            try:
                return verify_entries(entry_from_row(r) for r in rows)
            finally:
                rows.close()  # an early stop must not leave a server-side cursor open

    def stats(
        self, *, since: datetime, until: datetime, bucket: timedelta
    ) -> tuple[StatsBucket, ...]:
        """Counts per bucket."""
        cols = (EntryRow.created_at, EntryRow.kind, EntryRow.action, EntryRow.category)
        stmt = select(*cols, EntryRow.latency_ms).where(
            EntryRow.created_at >= since, EntryRow.created_at < until
        )
        with self._read() as session:
            rows = [
                ent.StatRow(utc(r[0]), EntryKind(r[1]), r[2], r[3], r[4])
                for r in session.execute(stmt)
            ]
        return ent.stats_buckets(rows, since=since, until=until, bucket=bucket)

    # -- review --------------------------------------------------------------------------

    def add_report(self, report: NewReport) -> Report:
        """Store, log and queue a report or appeal."""
        ids = (self._new_id(), self._new_id())

        def work(session: Session) -> Report:
            rows = session.scalars(select(EntryRow).where(EntryRow.request_id == report.request_id))
            target = ent.pick_target(report, [entry_from_row(r) for r in rows])
            now = self._clock()
            draft, stored = ent.report_draft(
                report, target, redactor=self._redactor, ids=ids, now=now
            )
            self._append(session, draft)
            reason = ReviewReason(stored.kind.value)
            item = ent.queue_item(
                target, reason, item_id=stored.item_id, now=now, report_id=stored.id
            )
            session.add(item_row(item))
            session.add(report_row(stored))
            return stored

        return self._write(work)

    def get_report(self, report_id: str) -> Report:
        """One report or appeal."""
        with self._read() as session:
            row = session.get(ReportRow, report_id)
            if row is None:
                raise NotFoundError("report", report_id)
            return report_from_row(row)

    def queue(
        self, *, status: ItemStatus | None = ItemStatus.OPEN, limit: int = 50, offset: int = 0
    ) -> tuple[ReviewItem, ...]:
        """Queue items, oldest first."""
        stmt = select(ItemRow).order_by(ItemRow.created_at, ItemRow.id)
        if status is not None:
            stmt = stmt.where(ItemRow.status == ItemStatus(status).value)
        stmt = stmt.offset(max(0, offset)).limit(max(1, min(limit, 1000)))
        with self._read() as session:
            return tuple(item_from_row(r) for r in session.scalars(stmt))

    def get_item(self, item_id: str) -> ReviewItem:
        """One item."""
        with self._read() as session:
            row = session.get(ItemRow, item_id)
            if row is None:
                raise NotFoundError("review item", item_id)
            return item_from_row(row)

    def decide(self, item_id: str, review: NewReview) -> ReviewDecision:
        """Resolve an open item with a new review record."""
        review_id = self._new_id()

        def work(session: Session) -> ReviewDecision:
            row = session.get(ItemRow, item_id)
            if row is None:
                raise NotFoundError("review item", item_id)
            if row.status == ItemStatus.RESOLVED.value:
                raise ConflictError(f"review item {item_id!r} is already resolved")
            target_row = session.scalars(select(EntryRow).where(EntryRow.id == row.entry_id)).one()
            draft, decision = ent.review_draft(
                item_from_row(row),
                entry_from_row(target_row),
                review,
                review_id=review_id,
                now=self._clock(),
            )
            self._append(session, draft)
            row.status, row.resolution_id = ItemStatus.RESOLVED.value, decision.id
            return decision

        return self._write(work)

    def review_decisions(self, *, item_id: str | None = None) -> tuple[ReviewDecision, ...]:
        """Review decisions, oldest first."""
        stmt = (
            select(EntryRow).where(EntryRow.kind == EntryKind.REVIEW.value).order_by(EntryRow.seq)
        )
        with self._read() as session:
            found = [ent.review_from_entry(entry_from_row(r)) for r in session.scalars(stmt)]
        return tuple(d for d in found if item_id is None or d.item_id == item_id)

    def labelled_examples(self) -> tuple[LabelledExample, ...]:
        """Overturned decisions as training examples."""
        out = []
        for decision in self.review_decisions():
            example = ent.labelled_example(decision, self.get_entry(decision.supersedes))
            if example is not None:
                out.append(example)
        return tuple(out)


def _filtered(stmt: Select[Any], query: AuditQuery) -> Select[Any]:
    conditions: list[ColumnElement[bool]] = []
    for column, wanted in (
        (EntryRow.kind, query.kind.value if query.kind else None),
        (EntryRow.action, query.action),
        (EntryRow.category, query.category),
        (EntryRow.request_id, query.request_id),
        (EntryRow.direction, query.direction),
    ):
        if wanted is not None:
            conditions.append(column == wanted)
    if query.since is not None:
        conditions.append(EntryRow.created_at >= query.since)
    if query.until is not None:
        conditions.append(EntryRow.created_at < query.until)
    if query.text:
        conditions.append(
            func.lower(EntryRow.payload).contains(query.text.lower(), autoescape=True)
        )
    return stmt.where(*conditions)


def _open_for(session: Session, request_id: str | None) -> bool:
    """An open item already holds this request (its input and output make one item)."""
    if request_id is None:
        return False
    stmt = select(ItemRow.id).where(
        ItemRow.request_id == request_id, ItemRow.status == ItemStatus.OPEN.value
    )
    return session.scalars(stmt.limit(1)).first() is not None
