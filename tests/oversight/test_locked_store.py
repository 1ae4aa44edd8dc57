"""Issue 22, finding 4: a locked SQLite store must not stall writers for minutes.

Another connection holds ``BEGIN EXCLUSIVE`` on the real database file; every write then
gives up within the configured bound (default 2 s) with a ``RecordError``, and writes work
again once the lock is released.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from bastion.core.errors import RecordError
from bastion.gateway.recorder import DecisionEvent
from bastion.oversight import OversightConfig, OversightStore, open_store
from bastion.oversight.fakes import exclusive_lock


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "oversight.db"


@pytest.fixture
def sqlite_store(db_path: Path) -> Iterator[Callable[..., OversightStore]]:
    opened: list[OversightStore] = []

    def make(**config: float) -> OversightStore:
        store = open_store(f"sqlite:///{db_path}", config=OversightConfig(**config))
        opened.append(store)
        return store

    yield make
    for store in opened:
        store.close()


def _timed_write(store: OversightStore, event: DecisionEvent) -> tuple[float, BaseException | None]:
    start = time.monotonic()
    try:
        store.record(event)
    except BaseException as exc:  # noqa: BLE001 - the test inspects it
        return time.monotonic() - start, exc
    return time.monotonic() - start, None


def test_default_write_wait_is_bounded_by_two_seconds(
    sqlite_store: Callable[..., OversightStore],
    db_path: Path,
    make_event: Callable[..., DecisionEvent],
) -> None:
    store = sqlite_store()
    store.record(make_event("before the lock"))
    outcome: list[tuple[float, BaseException | None]] = []
    with exclusive_lock(db_path):
        writer = threading.Thread(
            target=lambda: outcome.append(_timed_write(store, make_event("during")))
        )
        writer.start()
        writer.join(timeout=5)
        stalled = writer.is_alive()
    writer.join()
    assert not stalled, "a write waited more than 5 s on a locked store"
    elapsed, error = outcome[0]
    assert isinstance(error, RecordError)
    assert elapsed <= 2.5


def test_configured_bound_applies_to_every_concurrent_writer(
    sqlite_store: Callable[..., OversightStore],
    db_path: Path,
    make_event: Callable[..., DecisionEvent],
) -> None:
    store = sqlite_store(write_timeout_s=0.3)
    store.record(make_event("before the lock"))
    outcomes: list[tuple[float, BaseException | None]] = []
    with exclusive_lock(db_path):
        writers = [
            threading.Thread(target=lambda: outcomes.append(_timed_write(store, make_event("x"))))
            for _ in range(4)
        ]
        for writer in writers:
            writer.start()
        for writer in writers:
            writer.join(timeout=5)
    assert len(outcomes) == 4
    assert all(isinstance(error, RecordError) for _, error in outcomes)
    # Writers queue behind one another in the process, but none past the bound.
    assert max(elapsed for elapsed, _ in outcomes) < 1.0
    store.record(make_event("after the lock"))
    assert store.verify().ok and store.verify().entries == 2


def test_write_timeout_is_validated() -> None:
    assert OversightConfig().write_timeout_s == 2.0
    with pytest.raises(ValueError, match="write_timeout_s"):
        OversightConfig(write_timeout_s=0)
