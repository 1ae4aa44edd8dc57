"""Sessions, locking and retries shared by the SQL store's parts; keys and users."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from sqlalchemy import select, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError, OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from bastion.core.errors import RecordError
from bastion.oversight._secrets import hash_password, hash_secret, new_key, verify_password
from bastion.oversight._users import check_new_user
from bastion.oversight.access import ApiKey, IssuedKey, Scope, User
from bastion.oversight.config import OversightConfig
from bastion.oversight.errors import ConflictError, NotFoundError
from bastion.oversight.sql._rows import key_from_row, user_from_row
from bastion.oversight.sql.models import ApiKeyRow, UserRow
from bastion.records import Clock

__all__ = ["SqlAccess", "short_error"]

T = TypeVar("T")
_RETRIES = 8
_BACKOFF_S = 0.005


class SqlAccess:
    """The SQL store's plumbing (sessions, the write lock, retries) plus keys and users."""

    def __init__(
        self,
        engine: Engine,
        *,
        config: OversightConfig,
        clock: Clock,
        id_factory: Callable[[], str],
        shared_connection: bool,
    ) -> None:
        self._engine = engine
        self._sessions = sessionmaker(engine, expire_on_commit=False)
        self._config, self._clock, self._new_id = config, clock, id_factory
        self._write_lock = threading.RLock()
        # One shared SQLite connection (in memory) must not be used by two threads at once.
        self._read_lock = self._write_lock if shared_connection else None
        self._postgres = engine.dialect.name == "postgresql"

    @contextmanager
    def _read(self) -> Iterator[Session]:
        if self._read_lock is None:
            with self._sessions() as session:
                yield session
            return
        with self._read_lock, self._sessions() as session:
            yield session

    def _write(self, work: Callable[[Session], T]) -> T:
        """Run ``work`` in one transaction under the write lock, retrying lost races
        (another process took the same chain position, SQLite was busy), all within
        ``config.write_timeout_s``: waiting for the in-process lock, for the database's
        lock and the retries share one deadline.

        Raises:
            RecordError: the database refused the write, or the deadline passed.
        """
        budget = self._config.write_timeout_s
        deadline = time.monotonic() + budget
        if not self._write_lock.acquire(timeout=budget):
            raise RecordError(f"oversight store: cannot write: busy for over {budget:g} s")
        try:
            return self._attempt(work, deadline)
        finally:
            self._write_lock.release()

    def _attempt(self, work: Callable[[Session], T], deadline: float) -> T:
        for attempt in range(1, _RETRIES + 1):
            try:
                with self._sessions.begin() as session:
                    self._bound_waits(session, deadline)
                    return work(session)
            except (IntegrityError, OperationalError) as exc:
                left = deadline - time.monotonic()
                if attempt == _RETRIES or left <= 0 or not _retryable(exc):
                    raise RecordError(f"oversight store: cannot write: {short_error(exc)}") from exc
                time.sleep(min(left, _BACKOFF_S * attempt))
            except SQLAlchemyError as exc:
                raise RecordError(f"oversight store: cannot write: {short_error(exc)}") from exc
        raise AssertionError("unreachable")  # pragma: no cover

    def _bound_waits(self, session: Session, deadline: float) -> None:
        """Let the database wait for its locks only until ``deadline``."""
        left_ms = max(1, int((deadline - time.monotonic()) * 1000))
        if self._postgres:
            session.execute(text(f"SET LOCAL lock_timeout = {left_ms}"))
        else:
            session.execute(text(f"PRAGMA busy_timeout = {left_ms}"))

    # -- keys ----------------------------------------------------------------------------

    def create_key(self, name: str, scope: Scope) -> IssuedKey:
        """Issue a key; only the sha256 of its secret is stored."""
        key_id, secret = new_key()
        row = ApiKeyRow(
            id=key_id,
            name=name.strip()[:200] or key_id,
            scope=Scope(scope).value,
            secret_hash=hash_secret(secret),
            created_at=self._clock(),
        )
        self._write(lambda s: s.add(row))
        return IssuedKey(key=key_from_row(row), secret=secret)

    def authenticate_key(self, secret: str) -> ApiKey | None:
        """The active key with this secret, or None."""
        query = select(ApiKeyRow).where(
            ApiKeyRow.secret_hash == hash_secret(secret), ApiKeyRow.revoked_at.is_(None)
        )
        with self._read() as session:
            row = session.scalars(query).first()
            return key_from_row(row) if row is not None else None

    def list_keys(self) -> tuple[ApiKey, ...]:
        """Every key, oldest first."""
        with self._read() as session:
            rows = session.scalars(select(ApiKeyRow).order_by(ApiKeyRow.created_at))
            return tuple(key_from_row(r) for r in rows)

    def revoke_key(self, key_id: str) -> ApiKey:
        """Revoke a key (idempotent)."""

        def work(session: Session) -> ApiKey:
            row = session.get(ApiKeyRow, key_id)
            if row is None:
                raise NotFoundError("API key", key_id)
            if row.revoked_at is None:
                row.revoked_at = self._clock()
            return key_from_row(row)

        return self._write(work)

    def has_keys(self) -> bool:
        """Whether an active key exists."""
        query = select(ApiKeyRow.id).where(ApiKeyRow.revoked_at.is_(None)).limit(1)
        with self._read() as session:
            return session.execute(query).first() is not None

    # -- users ---------------------------------------------------------------------------

    def create_user(self, username: str, password: str, *, role: Scope) -> User:
        """Add a dashboard user."""
        name = check_new_user(username, password, role)
        row = UserRow(
            username=name,
            role=Scope(role).value,
            password_hash=hash_password(password),
            created_at=self._clock(),
        )

        def work(session: Session) -> User:
            if session.get(UserRow, name) is not None:
                raise ConflictError(f"user {name!r} exists")
            session.add(row)
            return user_from_row(row)

        return self._write(work)

    def authenticate_user(self, username: str, password: str) -> User | None:
        """The user when the password matches, else None."""
        with self._read() as session:
            row = session.get(UserRow, username.strip())
        ok = verify_password(password, row.password_hash if row is not None else None)
        return user_from_row(row) if row is not None and ok else None

    def get_user(self, username: str) -> User | None:
        """The user, or None."""
        with self._read() as session:
            row = session.get(UserRow, username.strip())
            return user_from_row(row) if row is not None else None

    def list_users(self) -> tuple[User, ...]:
        """Every user, by name."""
        with self._read() as session:
            rows = session.scalars(select(UserRow).order_by(UserRow.username))
            return tuple(user_from_row(r) for r in rows)

    def close(self) -> None:
        """Dispose of the engine's connections."""
        self._engine.dispose()


def _retryable(exc: SQLAlchemyError) -> bool:
    if isinstance(exc, IntegrityError):
        return "audit_entries" in str(exc) or "seq" in str(exc)
    text = str(exc).lower()
    return "locked" in text or "busy" in text or "serializ" in text or "deadlock" in text


def short_error(exc: BaseException) -> str:
    return " ".join(str(getattr(exc, "orig", exc)).split())[:300]
