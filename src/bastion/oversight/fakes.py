"""An in-memory oversight store that fully works: for tests, demos and the dashboard's
own tests. Same behaviour as the SQL store, nothing persisted."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

from bastion.oversight import _entries as ent
from bastion.oversight._secrets import hash_password, hash_secret, new_key, verify_password
from bastion.oversight._users import check_new_user
from bastion.oversight.access import ApiKey, IssuedKey, Scope, User
from bastion.oversight.chain import Draft, canonical_json, seal, verify_entries
from bastion.oversight.config import OversightConfig
from bastion.oversight.errors import ConflictError, NotFoundError
from bastion.oversight.redact import Redactor
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

__all__ = ["MemoryStore", "exclusive_lock"]


class MemoryStore:
    """An :class:`~bastion.oversight.OversightStore` kept in lists and dicts.

    Args:
        config: redaction and queueing.
        clock: the store's clock (tests pass :class:`bastion.records.fakes.FakeClock`).
        id_factory: makes ids (tests pass :class:`bastion.records.fakes.SequentialIds`).
    """

    def __init__(
        self,
        config: OversightConfig | None = None,
        *,
        clock: Clock = utc_now,
        id_factory: Callable[[], str] = new_id,
    ) -> None:
        self._config = config or OversightConfig()
        self._redactor = Redactor(self._config.redaction)
        self._clock, self._new_id = clock, id_factory
        self._lock = threading.RLock()
        self._entries: list[AuditEntry] = []
        self._items: dict[str, ReviewItem] = {}
        self._reports: dict[str, Report] = {}
        self._keys: dict[str, tuple[ApiKey, str]] = {}
        self._users: dict[str, tuple[User, str]] = {}

    # -- audit ---------------------------------------------------------------------------

    def record(self, event: DecidedTurn) -> None:
        """Append a decision and queue it when needed."""
        self.append_decision(event)

    def append_decision(self, event: DecidedTurn) -> AuditEntry:
        """Append a decision, returning its entry."""
        with self._lock:
            now = self._clock()
            draft = ent.decision_draft(
                event, redactor=self._redactor, entry_id=self._new_id(), now=now
            )
            entry = self._append(draft)
            reason = ent.triage(draft, self._config)
            if reason is not None and not self._open_for(entry.request_id):
                item = ent.queue_item(entry, reason, item_id=self._new_id(), now=now)
                self._items[item.id] = item
            return entry

    def _open_for(self, request_id: str | None) -> bool:
        """An open item already holds this request (its input and output make one item)."""
        return request_id is not None and any(
            i.request_id == request_id and i.status is ItemStatus.OPEN for i in self._items.values()
        )

    def _append(self, draft: Draft) -> AuditEntry:
        last = self._entries[-1] if self._entries else None
        entry = seal(
            draft,
            seq=(last.seq + 1) if last else 1,
            prev_hash=last.hash if last else GENESIS_HASH,
        )
        self._entries.append(entry)
        return entry

    def get_entry(self, entry_id: str) -> AuditEntry:
        """One entry."""
        with self._lock:
            for entry in self._entries:
                if entry.id == entry_id:
                    return entry
        raise NotFoundError("audit entry", entry_id)

    def search(self, query: AuditQuery) -> tuple[AuditEntry, ...]:
        """Matching entries, newest first."""
        found = self._matching(query)
        return tuple(found[query.offset : query.offset + max(1, min(query.limit, 1000))])

    def count(self, query: AuditQuery) -> int:
        """How many entries match."""
        return len(self._matching(query))

    def _matching(self, query: AuditQuery) -> list[AuditEntry]:
        with self._lock:
            entries = list(reversed(self._entries))
        return [e for e in entries if ent.matches(e, query, lambda e: canonical_json(e.payload))]

    def verify(self) -> ChainReport:
        """Verify the whole chain."""
        with self._lock:
            return verify_entries(list(self._entries))

    def stats(
        self, *, since: datetime, until: datetime, bucket: timedelta
    ) -> tuple[StatsBucket, ...]:
        """Counts per bucket."""
        with self._lock:
            rows = [
                ent.StatRow(e.created_at, e.kind, e.action, e.category, e.latency_ms)
                for e in self._entries
            ]
        return ent.stats_buckets(rows, since=since, until=until, bucket=bucket)

    # -- review --------------------------------------------------------------------------

    def add_report(self, report: NewReport) -> Report:
        """Store, log and queue a report or appeal."""
        with self._lock:
            candidates = [e for e in self._entries if e.request_id == report.request_id]
            target = ent.pick_target(report, candidates)
            now = self._clock()
            draft, stored = ent.report_draft(
                report,
                target,
                redactor=self._redactor,
                ids=(self._new_id(), self._new_id()),
                now=now,
            )
            self._append(draft)
            reason = ReviewReason(stored.kind.value)
            item = ent.queue_item(
                target, reason, item_id=stored.item_id, now=now, report_id=stored.id
            )
            self._items[item.id] = item
            self._reports[stored.id] = stored
            return stored

    def get_report(self, report_id: str) -> Report:
        """One report or appeal."""
        with self._lock:
            if report_id in self._reports:
                return self._reports[report_id]
        raise NotFoundError("report", report_id)

    def queue(
        self, *, status: ItemStatus | None = ItemStatus.OPEN, limit: int = 50, offset: int = 0
    ) -> tuple[ReviewItem, ...]:
        """Queue items, oldest first."""
        with self._lock:
            items = [i for i in self._items.values() if status is None or i.status is status]
        return tuple(items[offset : offset + max(1, min(limit, 1000))])

    def get_item(self, item_id: str) -> ReviewItem:
        """One item."""
        with self._lock:
            if item_id in self._items:
                return self._items[item_id]
        raise NotFoundError("review item", item_id)

    def decide(self, item_id: str, review: NewReview) -> ReviewDecision:
        """Resolve an open item with a new review record."""
        with self._lock:
            item = self.get_item(item_id)
            if item.status is ItemStatus.RESOLVED:
                raise ConflictError(f"review item {item_id!r} is already resolved")
            target = self.get_entry(item.entry_id)
            draft, decision = ent.review_draft(
                item, target, review, review_id=self._new_id(), now=self._clock()
            )
            self._append(draft)
            self._items[item_id] = replace(
                item, status=ItemStatus.RESOLVED, resolution_id=decision.id
            )
            return decision

    def review_decisions(self, *, item_id: str | None = None) -> tuple[ReviewDecision, ...]:
        """Review decisions, oldest first."""
        with self._lock:
            reviews = [e for e in self._entries if e.kind is EntryKind.REVIEW]
        found = (ent.review_from_entry(e) for e in reviews)
        return tuple(d for d in found if item_id is None or d.item_id == item_id)

    def labelled_examples(self) -> tuple[LabelledExample, ...]:
        """Overturned decisions as training examples."""
        out = []
        for decision in self.review_decisions():
            example = ent.labelled_example(decision, self.get_entry(decision.supersedes))
            if example is not None:
                out.append(example)
        return tuple(out)

    # -- keys and users ------------------------------------------------------------------

    def create_key(self, name: str, scope: Scope) -> IssuedKey:
        """Issue a key."""
        key_id, secret = new_key()
        key = ApiKey(
            id=key_id, name=name.strip() or key_id, scope=Scope(scope), created_at=self._clock()
        )
        with self._lock:
            self._keys[key_id] = (key, hash_secret(secret))
        return IssuedKey(key=key, secret=secret)

    def authenticate_key(self, secret: str) -> ApiKey | None:
        """The active key with this secret."""
        digest = hash_secret(secret)
        with self._lock:
            for key, stored in self._keys.values():
                if stored == digest and key.active:
                    return key
        return None

    def list_keys(self) -> tuple[ApiKey, ...]:
        """Every key."""
        with self._lock:
            return tuple(key for key, _ in self._keys.values())

    def revoke_key(self, key_id: str) -> ApiKey:
        """Revoke a key."""
        with self._lock:
            if key_id not in self._keys:
                raise NotFoundError("API key", key_id)
            key, digest = self._keys[key_id]
            if key.active:
                key = replace(key, revoked_at=self._clock())
                self._keys[key_id] = (key, digest)
            return key

    def has_keys(self) -> bool:
        """Whether an active key exists."""
        with self._lock:
            return any(key.active for key, _ in self._keys.values())

    def create_user(self, username: str, password: str, *, role: Scope) -> User:
        """Add a dashboard user."""
        name = check_new_user(username, password, role)
        user = User(username=name, role=Scope(role), created_at=self._clock())
        hashed = hash_password(password)
        with self._lock:
            if name in self._users:
                raise ConflictError(f"user {name!r} exists")
            self._users[name] = (user, hashed)
        return user

    def authenticate_user(self, username: str, password: str) -> User | None:
        """The user when the password matches."""
        with self._lock:
            found = self._users.get(username.strip())
        ok = verify_password(password, found[1] if found else None)
        return found[0] if found and ok else None

    def get_user(self, username: str) -> User | None:
        """The user, or None."""
        with self._lock:
            found = self._users.get(username.strip())
        return found[0] if found else None

    def list_users(self) -> tuple[User, ...]:
        """Every user, by name."""
        with self._lock:
            return tuple(self._users[name][0] for name in sorted(self._users))

    def close(self) -> None:
        """Nothing to release."""


@contextmanager
def exclusive_lock(path: Path) -> Iterator[None]:
    """Hold ``BEGIN EXCLUSIVE`` on the SQLite database at ``path`` from another connection:
    a locked store for tests of bounded write waits (design note 0052)."""
    locker = sqlite3.connect(path, isolation_level=None, timeout=0)
    try:
        locker.execute("BEGIN EXCLUSIVE")
        yield
        locker.execute("ROLLBACK")
    finally:
        locker.close()
