"""The SQL store only: tamper evidence on the real tables, reopening, migrations."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, text

from bastion.core.errors import ConfigError
from bastion.core.types import Action
from bastion.oversight import AuditQuery, open_store
from bastion.oversight.sql import HEAD
from bastion.oversight.sql.models import Base


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def _fill(store_url: str, make_event: Callable[..., object], n: int = 5) -> None:
    store = open_store(store_url)
    for i in range(n):
        store.record(make_event(f"turn {i}", request_id=f"r{i}", action=Action.REFUSE))
    store.close()


def _execute(store_url: str, sql: str) -> None:
    engine = create_engine(store_url)
    with engine.begin() as conn:
        conn.execute(text(sql))
    engine.dispose()


@pytest.mark.parametrize(
    ("sql", "problem"),
    [
        ("UPDATE audit_entries SET action = 'allow' WHERE seq = 3", "altered"),
        (
            "UPDATE audit_entries SET payload = replace(payload, 'turn 2', 'turn X') WHERE seq = 3",
            "altered",
        ),
        ("DELETE FROM audit_entries WHERE seq = 3", "missing"),
    ],
)
def test_verify_names_the_first_broken_link(
    store_url: str, make_event: Callable[..., object], sql: str, problem: str
) -> None:
    _fill(store_url, make_event)
    _execute(store_url, sql)
    store = open_store(store_url)
    report = store.verify()
    store.close()
    assert not report.ok and report.broken_seq in (3, 4) and problem in (report.problem or "")


def test_a_reopened_store_continues_the_chain(
    store_url: str, make_event: Callable[..., object]
) -> None:
    _fill(store_url, make_event, 3)
    _fill(store_url, make_event, 2)
    store = open_store(store_url)
    assert store.verify().ok and store.count(AuditQuery()) == 5
    store.close()


def test_migrations_match_the_models(store_url: str) -> None:
    open_store(store_url).close()
    engine = create_engine(store_url)
    with engine.connect() as conn:
        context = MigrationContext.configure(conn)
        assert context.get_current_revision() == HEAD
        assert compare_metadata(context, Base.metadata) == []
    engine.dispose()


def test_sqlite_uses_wal(tmp_path: object) -> None:
    url = f"sqlite:///{tmp_path}/w.db"
    open_store(url).close()
    engine = create_engine(url)
    with engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
    engine.dispose()


@pytest.mark.parametrize(
    "url", ["not a url", "mysql://x/y", "postgresql://nobody@/x?host=/nonexistent"]
)
def test_bad_urls_are_config_errors(url: str) -> None:
    with pytest.raises(ConfigError):
        open_store(url)
