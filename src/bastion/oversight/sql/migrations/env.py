"""Alembic environment: runs on the connection :func:`bastion.oversight.sql.migrate` passes
in ``config.attributes["connection"]`` (no alembic.ini, no URL in a file)."""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from bastion.oversight.sql.models import Base

_connection = context.config.attributes.get("connection")
if not isinstance(_connection, Connection):
    raise RuntimeError("bastion's migrations run through bastion.oversight.sql.migrate()")
context.configure(
    connection=_connection,
    target_metadata=Base.metadata,
    render_as_batch=_connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
