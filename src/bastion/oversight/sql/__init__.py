"""The SQL oversight store (SQLAlchemy 2, Alembic migrations shipped here): SQLite with WAL
by default, PostgreSQL by URL (psycopg 3). Needs the ``oversight`` extra."""

from bastion.oversight.sql._migrate import HEAD, alembic_config, migrate
from bastion.oversight.sql.store import ADVISORY_APPEND, SqlStore

__all__ = ["ADVISORY_APPEND", "HEAD", "SqlStore", "alembic_config", "migrate"]
