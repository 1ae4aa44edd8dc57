"""Human oversight (layer 5): the audit log, the review queue, reports and appeals, API
keys and dashboard users, behind one store.

- :class:`OversightStore` (and its roles :class:`AuditLog`, :class:`ReviewQueue`,
  :class:`KeyStore`, :class:`UserStore`): the protocol; it is also the gateway's
  ``DecisionRecorder`` (``record(event)``).
- :func:`open_store`: the SQL store for a URL (``sqlite:///file.db`` by default,
  ``postgresql+psycopg://...``), migrations applied on open. Needs the ``oversight``
  extra (SQLAlchemy, Alembic, psycopg).
- :class:`bastion.oversight.fakes.MemoryStore`: the same behaviour in memory.
- :func:`verify_entries`, :class:`Redactor`: the hash chain and the PII redactor.

See ``docs/oversight.md`` and ``docs/design/0024-oversight-store.md``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bastion.oversight.access import ApiKey, IssuedKey, Scope, User
from bastion.oversight.chain import canonical_json, entry_hash, verify_entries
from bastion.oversight.config import OversightConfig
from bastion.oversight.errors import ConflictError, NotFoundError
from bastion.oversight.redact import PII_KINDS, RedactionConfig, Redactor
from bastion.oversight.store import (
    AuditLog,
    DecidedTurn,
    KeyStore,
    OversightStore,
    ReviewQueue,
    UserStore,
)
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
    ReportKind,
    ReviewDecision,
    ReviewItem,
    ReviewOutcome,
    ReviewReason,
    StatsBucket,
)

if TYPE_CHECKING:
    from bastion.records import Clock

__all__ = [
    "DEFAULT_STORE_URL",
    "GENESIS_HASH",
    "PII_KINDS",
    "ApiKey",
    "AuditEntry",
    "AuditLog",
    "AuditQuery",
    "ChainReport",
    "ConflictError",
    "DecidedTurn",
    "EntryKind",
    "IssuedKey",
    "ItemStatus",
    "KeyStore",
    "LabelledExample",
    "NewReport",
    "NewReview",
    "NotFoundError",
    "OversightConfig",
    "OversightStore",
    "RedactionConfig",
    "Redactor",
    "Report",
    "ReportKind",
    "ReviewDecision",
    "ReviewItem",
    "ReviewOutcome",
    "ReviewQueue",
    "ReviewReason",
    "Scope",
    "StatsBucket",
    "User",
    "UserStore",
    "canonical_json",
    "entry_hash",
    "open_store",
    "verify_entries",
]

DEFAULT_STORE_URL = "sqlite:///bastion-oversight.db"
"""Where ``bastion serve`` keeps its store unless told otherwise."""


def open_store(
    url: str = DEFAULT_STORE_URL,
    *,
    config: OversightConfig | None = None,
    clock: Clock | None = None,
) -> OversightStore:
    """Open (creating and migrating when needed) the SQL store at ``url``.

    Args:
        url: a SQLAlchemy URL: ``sqlite:///path.db`` (WAL journal), ``sqlite://`` (in
            memory), or ``postgresql+psycopg://user@host/db`` (``postgresql://`` is
            read as psycopg v3).
        config: redaction and queueing.
        clock: the store's clock.

    Raises:
        ConfigError: the URL is invalid, the driver is missing or the database is
            unreachable.
    """
    from bastion.oversight.sql import SqlStore

    return SqlStore.open(url, config=config, clock=clock)
