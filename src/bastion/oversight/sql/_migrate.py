"""Apply the shipped Alembic migrations programmatically (no alembic.ini)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine

__all__ = ["HEAD", "alembic_config", "migrate"]

HEAD = "0001"
_MIGRATIONS = Path(__file__).with_name("migrations")
# pg_advisory_xact_lock key for migrations (appends use ADVISORY_APPEND).
_ADVISORY_MIGRATE = 0x6261_7374_0001


def alembic_config(connection: Connection | None = None) -> Config:
    """An Alembic config pointing at the shipped migrations, built in code."""
    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS))
    config.set_main_option("path_separator", "os")
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def migrate(engine: Engine, revision: str = "head") -> None:
    """Upgrade the database to ``revision`` (idempotent; concurrent openers serialise on
    PostgreSQL through an advisory lock)."""
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _ADVISORY_MIGRATE})
        command.upgrade(alembic_config(connection), revision)
