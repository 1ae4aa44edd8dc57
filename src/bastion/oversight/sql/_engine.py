"""Engines for the store's URLs: SQLite (WAL, busy timeout) and PostgreSQL (psycopg 3).

The busy timeout set here is only the connection's default; each write sets the time left
of its own bounded wait (``OversightConfig.write_timeout_s``) before it runs.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from sqlalchemy import create_engine, event
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.pool import StaticPool

from bastion.core.errors import ConfigError

__all__ = ["is_memory", "make_engine", "normalise_url"]


def normalise_url(url: str) -> URL:
    """The SQLAlchemy URL for ``url``; plain ``postgresql://`` means psycopg v3.

    Raises:
        ConfigError: not a URL, or a database bastion does not support.
    """
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise ConfigError(f"store URL {url!r} is not a database URL") from None
    backend = parsed.get_backend_name()
    if backend == "postgresql":
        if parsed.get_driver_name() not in ("psycopg", "psycopg2"):
            parsed = parsed.set(drivername="postgresql+psycopg")
        return parsed
    if backend != "sqlite":
        raise ConfigError(f"store URL {url!r}: use sqlite:///FILE or postgresql://...")
    return parsed


def is_memory(url: URL) -> bool:
    """An in-memory SQLite database (one shared connection)."""
    return url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:")


def make_engine(url: URL, *, busy_timeout_s: float = 2.0) -> Engine:
    """An engine for ``url``, SQLite connections set to WAL with a busy timeout."""
    if url.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True, pool_size=8, max_overflow=8)
    connect = {"check_same_thread": False, "timeout": busy_timeout_s}
    options: dict[str, Any] = {"connect_args": connect}
    if is_memory(url):
        options["poolclass"] = StaticPool
    engine = create_engine(url, **options)
    event.listen(engine, "connect", partial(_sqlite_pragmas, busy_ms=int(busy_timeout_s * 1000)))
    return engine


def _sqlite_pragmas(dbapi_connection: Any, _record: Any, *, busy_ms: int) -> None:
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={busy_ms}")
    finally:
        cursor.close()
