"""The oversight store's protocols: audit log, review queue, API keys, dashboard users.

One store object implements all four (:class:`OversightStore`); the roles are separate
protocols so a caller can ask for only what it uses. Two implementations ship:
:class:`bastion.oversight.fakes.MemoryStore` (in memory, for tests and demos) and the
SQL store from :func:`bastion.oversight.open_store` (SQLite or PostgreSQL). Every method
is thread-safe. See ``docs/design/0024-oversight-store.md``.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Protocol, runtime_checkable

from bastion.core.types import Message
from bastion.core.verdict import Decision
from bastion.oversight.access import ApiKey, IssuedKey, Scope, User
from bastion.oversight.types import (
    AuditEntry,
    AuditQuery,
    ChainReport,
    ItemStatus,
    LabelledExample,
    NewReport,
    NewReview,
    Report,
    ReviewDecision,
    ReviewItem,
    StatsBucket,
)

__all__ = ["AuditLog", "DecidedTurn", "KeyStore", "OversightStore", "ReviewQueue", "UserStore"]


class DecidedTurn(Protocol):
    """What the store needs of a gateway decision (``bastion.gateway.DecisionEvent`` fits)."""

    @property
    def direction(self) -> str: ...
    @property
    def decision(self) -> Decision: ...
    @property
    def messages(self) -> tuple[Message, ...]: ...
    @property
    def response(self) -> str | None: ...
    @property
    def request_id(self) -> str: ...
    @property
    def enforced(self) -> bool: ...


@runtime_checkable
class AuditLog(Protocol):
    """The append-only, hash-chained log of decisions, reports and review decisions."""

    def record(self, event: DecidedTurn) -> None:
        """Append a decision (the gateway's ``DecisionRecorder`` method); queue it when it
        is escalated or low-confidence. Never loses a record; raises when it cannot write."""
        ...

    def append_decision(self, event: DecidedTurn) -> AuditEntry:
        """Like :meth:`record`, returning the new entry."""
        ...

    def get_entry(self, entry_id: str) -> AuditEntry:
        """One entry. Raises ``NotFoundError``."""
        ...

    def search(self, query: AuditQuery) -> tuple[AuditEntry, ...]:
        """Entries matching ``query``, newest first."""
        ...

    def count(self, query: AuditQuery) -> int:
        """How many entries match ``query`` (``limit``/``offset`` ignored)."""
        ...

    def verify(self) -> ChainReport:
        """Walk the whole chain in order and report the first broken link."""
        ...

    def stats(
        self, *, since: datetime, until: datetime, bucket: timedelta
    ) -> tuple[StatsBucket, ...]:
        """Counts per ``bucket`` in ``[since, until)``, oldest first, empty buckets included."""
        ...


@runtime_checkable
class ReviewQueue(Protocol):
    """Review items, reports and appeals, and reviewers' decisions on them."""

    def add_report(self, report: NewReport) -> Report:
        """Store a report or appeal, append it to the audit log and queue it.

        Raises ``NotFoundError`` (no such request/entry) or ``InputError`` (an appeal of a
        decision that was not a refusal)."""
        ...

    def get_report(self, report_id: str) -> Report:
        """One report or appeal. Raises ``NotFoundError``."""
        ...

    def queue(
        self, *, status: ItemStatus | None = ItemStatus.OPEN, limit: int = 50, offset: int = 0
    ) -> tuple[ReviewItem, ...]:
        """Queue items, oldest first (``status=None``: all)."""
        ...

    def get_item(self, item_id: str) -> ReviewItem:
        """One item. Raises ``NotFoundError``."""
        ...

    def decide(self, item_id: str, review: NewReview) -> ReviewDecision:
        """Resolve an open item with a new review record that supersedes its decision entry.

        Raises ``NotFoundError``, ``ConflictError`` (already resolved) or ``InputError``
        (empty rationale; an overturn without a different action)."""
        ...

    def review_decisions(self, *, item_id: str | None = None) -> tuple[ReviewDecision, ...]:
        """Review decisions, oldest first, optionally of one item."""
        ...

    def labelled_examples(self) -> tuple[LabelledExample, ...]:
        """Every overturned decision as a training example, oldest first."""
        ...


@runtime_checkable
class KeyStore(Protocol):
    """API keys, stored as sha256 of their secret."""

    def create_key(self, name: str, scope: Scope) -> IssuedKey:
        """Issue a key; the secret is only in the returned value."""
        ...

    def authenticate_key(self, secret: str) -> ApiKey | None:
        """The active key with this secret, or None."""
        ...

    def list_keys(self) -> tuple[ApiKey, ...]:
        """Every key, revoked ones included, oldest first."""
        ...

    def revoke_key(self, key_id: str) -> ApiKey:
        """Revoke (idempotent). Raises ``NotFoundError``."""
        ...

    def has_keys(self) -> bool:
        """Whether any active key exists (the gateway then requires keys)."""
        ...


@runtime_checkable
class UserStore(Protocol):
    """Dashboard users, passwords stored as scrypt hashes."""

    def create_user(self, username: str, password: str, *, role: Scope) -> User:
        """Add a user. Raises ``ConflictError`` (taken) or ``InputError`` (empty name,
        password under 8 characters, role ``client``)."""
        ...

    def authenticate_user(self, username: str, password: str) -> User | None:
        """The user when the password matches, else None (constant work either way)."""
        ...

    def get_user(self, username: str) -> User | None:
        """The user, or None."""
        ...

    def list_users(self) -> tuple[User, ...]:
        """Every user, by name."""
        ...


@runtime_checkable
class OversightStore(AuditLog, ReviewQueue, KeyStore, UserStore, Protocol):
    """The whole store."""

    def close(self) -> None:
        """Release connections (idempotent)."""
        ...
