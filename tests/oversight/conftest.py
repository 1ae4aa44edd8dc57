"""Oversight fixtures: the store over every backend (memory, SQLite, a real PostgreSQL).

The PostgreSQL cluster is a throwaway one per test session: ``initdb`` into a temp dir
owned by the ``postgres`` user, ``pg_ctl start`` on a free port with the unix socket in
that dir, one fresh database per test, stopped and deleted afterwards. Without the
binaries (``scripts/system-deps.sh`` installs them) the PostgreSQL params skip.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from itertools import count
from pathlib import Path

import pytest

from bastion.core.types import Action, Limit, Message, Role
from bastion.core.verdict import Decision, Verdict
from bastion.gateway.recorder import DecisionEvent
from bastion.oversight import OversightConfig, OversightStore, open_store
from bastion.oversight.fakes import MemoryStore

PG_BIN = Path(os.environ.get("BASTION_PG_BIN", "/usr/lib/postgresql/15/bin"))
BACKENDS = ["memory", "sqlite", "postgres"]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _as_postgres(*args: str) -> list[str]:
    command = [str(PG_BIN / args[0]), *args[1:]]
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


class PostgresCluster:
    """A running throwaway cluster; :meth:`new_database` makes a fresh database URL."""

    def __init__(self, root: Path, port: int) -> None:
        self.root, self.port = root, port
        self._ids = count()

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@/{database}?host={self.root}&port={self.port}"

    def new_database(self) -> str:
        import psycopg

        name = f"bastion_test_{next(self._ids)}"
        conninfo = f"host={self.root} port={self.port} user=postgres dbname=postgres"
        with psycopg.connect(conninfo, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)


def _skip_reason() -> str | None:
    if not (PG_BIN / "initdb").exists():
        return f"PostgreSQL binaries not found in {PG_BIN} (run scripts/system-deps.sh)"
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            return "no postgres user to run the server as"
    return None


@pytest.fixture(scope="session")
def postgres_cluster() -> Iterator[PostgresCluster]:
    reason = _skip_reason()
    if reason is not None:
        pytest.skip(reason)
    root = Path(tempfile.mkdtemp(prefix="bastion-pg-"))
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
    data, port = root / "data", _free_port()
    run = lambda *a: subprocess.run(_as_postgres(*a), check=True, capture_output=True)  # noqa: E731
    try:
        run("initdb", "-D", str(data), "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8")
        options = f"-p {port} -k {root} -c listen_addresses='' -c fsync=off"
        run("pg_ctl", "-D", str(data), "-o", options, "-l", str(root / "log"), "-w", "start")
        yield PostgresCluster(root, port)
    finally:
        subprocess.run(
            _as_postgres("pg_ctl", "-D", str(data), "-m", "fast", "stop"),
            check=False,
            capture_output=True,
        )
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def store_url(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> str | None:
    """A fresh store URL for the backend (None for the in-memory fake)."""
    if backend == "memory":
        return None
    if backend == "sqlite":
        return f"sqlite:///{tmp_path / 'oversight.db'}"
    cluster: PostgresCluster = request.getfixturevalue("postgres_cluster")
    return cluster.new_database()


@pytest.fixture
def make_store(store_url: str | None) -> Iterator[Callable[..., OversightStore]]:
    """``make_store(config=None)``: a store on the backend; all closed afterwards."""
    opened: list[OversightStore] = []

    def make(config: OversightConfig | None = None) -> OversightStore:
        store: OversightStore = (
            MemoryStore(config) if store_url is None else open_store(store_url, config=config)
        )
        opened.append(store)
        return store

    yield make
    for store in opened:
        store.close()


@pytest.fixture
def store(make_store: Callable[..., OversightStore]) -> OversightStore:
    return make_store()


@pytest.fixture
def make_event() -> Callable[..., DecisionEvent]:
    """``make_event(text, request_id=..., action=..., score=..., ...)``."""
    return event


def decision(
    action: Action = Action.ALLOW,
    *,
    score: float = 0.0,
    category: str | None = None,
    review: bool = False,
    layer: str = "rules",
) -> Decision:
    """A decision as the guard would make it."""
    return Decision(
        action=action,
        review=review,
        score=score,
        category=category,
        limit=Limit.HARD if action is Action.REFUSE else Limit.NONE,
        techniques=(),
        layer=layer,
        explanation="because",
        verdicts=(Verdict(layer, score=score, category=category, latency_ms=1.5),),
    )


def event(
    text: str = "hello there",
    *,
    request_id: str = "req-1",
    direction: str = "input",
    response: str | None = None,
    **kwargs: object,
) -> DecisionEvent:
    """A gateway decision event around :func:`decision`."""
    return DecisionEvent(
        direction,
        decision(**kwargs),  # type: ignore[arg-type]
        (Message(Role.USER, text),),
        response,
        request_id,
        kwargs.get("action", Action.ALLOW) is not Action.ALLOW,
    )
