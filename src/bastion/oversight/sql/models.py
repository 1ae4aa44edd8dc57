"""The SQL store's tables (SQLAlchemy 2 typed ORM). Changing them needs a migration in
``migrations/versions``; ``tests/oversight/test_migrations.py`` checks they agree."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, DateTime, Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

__all__ = ["ApiKeyRow", "Base", "EntryRow", "ItemRow", "ReportRow", "UserRow"]

_ID = 64


class Base(DeclarativeBase):
    """Declarative base of the oversight tables."""


class EntryRow(Base):
    """One audit entry (append-only; never updated or deleted by bastion)."""

    __tablename__ = "audit_entries"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    id: Mapped[str] = mapped_column(String(_ID), unique=True)
    kind: Mapped[str] = mapped_column(String(16), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    request_id: Mapped[str | None] = mapped_column(String(200), index=True)
    direction: Mapped[str | None] = mapped_column(String(16))
    action: Mapped[str | None] = mapped_column(String(16), index=True)
    category: Mapped[str | None] = mapped_column(String(100), index=True)
    score: Mapped[float | None] = mapped_column(Float)
    review: Mapped[bool] = mapped_column(Boolean)
    latency_ms: Mapped[float | None] = mapped_column(Float)
    supersedes: Mapped[str | None] = mapped_column(String(_ID), index=True)
    payload: Mapped[str] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class ItemRow(Base):
    """One review queue item (its status moves open -> resolved)."""

    __tablename__ = "review_items"

    id: Mapped[str] = mapped_column(String(_ID), primary_key=True)
    entry_id: Mapped[str] = mapped_column(ForeignKey("audit_entries.id"), index=True)
    reason: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    status: Mapped[str] = mapped_column(String(16), index=True)
    request_id: Mapped[str | None] = mapped_column(String(200))
    action: Mapped[str | None] = mapped_column(String(16))
    category: Mapped[str | None] = mapped_column(String(100))
    score: Mapped[float | None] = mapped_column(Float)
    excerpt: Mapped[str] = mapped_column(Text)
    report_id: Mapped[str | None] = mapped_column(String(_ID))
    resolution_id: Mapped[str | None] = mapped_column(String(_ID))


class ReportRow(Base):
    """One user report or appeal."""

    __tablename__ = "reports"

    id: Mapped[str] = mapped_column(String(_ID), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    request_id: Mapped[str] = mapped_column(String(200), index=True)
    entry_id: Mapped[str] = mapped_column(ForeignKey("audit_entries.id"))
    reason: Mapped[str] = mapped_column(Text)
    reporter: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    item_id: Mapped[str] = mapped_column(String(_ID))


class ApiKeyRow(Base):
    """One API key: only the sha256 of its secret is kept."""

    __tablename__ = "api_keys"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    scope: Mapped[str] = mapped_column(String(16))
    secret_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class UserRow(Base):
    """One dashboard user: the password as a scrypt hash."""

    __tablename__ = "users"

    username: Mapped[str] = mapped_column(String(64), primary_key=True)
    role: Mapped[str] = mapped_column(String(16))
    password_hash: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
