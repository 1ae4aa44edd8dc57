"""Oversight fixtures: the store over every backend (memory, SQLite, a real PostgreSQL).

The PostgreSQL cluster (``postgres_cluster``, one per test session, one fresh database per
test) is defined in ``tests/conftest.py`` so the dashboard tests can use it too.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from bastion.core.types import Action, Limit, Message, Role
from bastion.core.verdict import Decision, Verdict
from bastion.gateway.recorder import DecisionEvent
from bastion.oversight import OversightConfig, OversightStore, open_store
from bastion.oversight.fakes import MemoryStore

BACKENDS = ["memory", "sqlite", "postgres"]


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
    return str(request.getfixturevalue("postgres_cluster").new_database())


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
