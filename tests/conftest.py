"""Shared fixtures: the packaged policy, registries built from the shipped fakes, an ASGI
app served by uvicorn in a thread, and a throwaway PostgreSQL cluster.

The PostgreSQL cluster is one per test session: ``initdb`` into a temp dir owned by the
``postgres`` user, ``pg_ctl start`` on a free port with the unix socket in that dir, a fresh
database per test (:meth:`PostgresCluster.new_database`), stopped and deleted afterwards.
Without the binaries (``scripts/system-deps.sh`` installs them) the tests that need it skip.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from itertools import count
from pathlib import Path
from typing import Any

import pytest

from bastion.core.registry import Registry
from bastion.guard.layers.base import LayerPlugin
from bastion.guard.layers.fakes import FailingLayer, SlowLayer, StaticLayer
from bastion.policy import Policy, load_policy


@pytest.fixture(scope="session")
def policy() -> Policy:
    return load_policy()


@pytest.fixture
def fake_registry() -> Registry[LayerPlugin]:
    registry: Registry[LayerPlugin] = Registry("layer")
    registry.add_marked([StaticLayer, FailingLayer, SlowLayer], lambda e: e.name)
    return registry


PG_BIN = Path(os.environ.get("BASTION_PG_BIN", "/usr/lib/postgresql/15/bin"))


ServeInThread = Callable[[Any], AbstractContextManager[str]]


@contextmanager
def _serve_in_thread(app: Any) -> Iterator[str]:
    """``app`` on a free localhost port, served by uvicorn in a background thread."""
    import uvicorn

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.01)
    try:
        assert server.started, "uvicorn did not start"
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


@pytest.fixture(scope="session")
def serve_in_thread() -> ServeInThread:
    """A context manager factory: ``with serve_in_thread(app) as base_url: ...``."""
    return _serve_in_thread


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
