"""Issue 22, findings 5, 6 and 7 on the dashboard: sessions, pagination, login throttle."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from bastion.dashboard import mount_dashboard
from bastion.dashboard.security import LoginThrottle
from bastion.dashboard.sessions import COOKIE_NAME, SessionStore
from bastion.gateway import GatewaySettings, ScriptedUpstream, create_app
from bastion.gateway.schemas import MAX_OFFSET
from bastion.oversight import OversightStore, Scope, open_store
from bastion.records.fakes import FakeClock

from ._support import PASSWORD, build_app, login

ATTACKER = ("203.0.113.66", 40000)
VICTIM = ("198.51.100.7", 40000)


# -- finding 5: anonymous sessions never evict logged-in ones ---------------------------


def test_anonymous_sessions_do_not_evict_logged_in_ones() -> None:
    store = SessionStore(ttl=timedelta(hours=1), max_sessions=10)
    reviewer = store.new(user="reviewer", role=Scope.REVIEWER)
    for _ in range(1020):  # the 10,200 cookie-less GETs, at a tenth of the cap
        store.new()
    assert store.get(reviewer.id) is reviewer
    assert len(store) <= 10 + 1


def test_logged_in_sessions_are_evicted_only_by_other_logins_or_expiry() -> None:
    clock = FakeClock(step=timedelta(0))
    store = SessionStore(ttl=timedelta(hours=1), max_sessions=2, clock=clock)
    first = store.new(user="a", role=Scope.REVIEWER)
    second = store.new(user="b", role=Scope.REVIEWER)
    anonymous = [store.new() for _ in range(5)]
    assert store.get(first.id) is first and store.get(second.id) is second
    assert store.get(anonymous[0].id) is None  # anonymous ones push out each other
    assert store.get(anonymous[-1].id) is not None
    third = store.new(user="c", role=Scope.REVIEWER)
    assert store.get(first.id) is None  # the least recently used login goes
    assert store.get(second.id) is second and store.get(third.id) is third
    clock.advance(timedelta(hours=2))
    assert store.get(second.id) is None


def test_a_flood_of_login_page_views_keeps_the_reviewer_logged_in(
    store: OversightStore, settings: GatewaySettings
) -> None:
    off = settings.model_copy(
        update={"dashboard": settings.dashboard.model_copy(update={"enabled": False})}
    )
    app = create_app(off, store=store, upstream=ScriptedUpstream(["ok"]))
    sessions = SessionStore(ttl=timedelta(hours=1), max_sessions=20)
    mount_dashboard(app, store=store, settings=settings, sessions=sessions)
    with TestClient(app) as reviewer:
        assert login(reviewer).status_code == 303
        flood = TestClient(app)
        for _ in range(60):  # three times the cap, no cookie kept
            flood.cookies.clear()
            assert flood.get("/dashboard/login").status_code == 200
        assert reviewer.get("/dashboard/queue", follow_redirects=False).status_code == 200


# -- finding 6: the dashboard's pages share the API's offset bound -----------------------


@pytest.fixture
def sqlite_reviewer(tmp_path: Path, settings: GatewaySettings) -> Iterator[TestClient]:
    store = open_store(f"sqlite:///{tmp_path / 'oversight.db'}")
    store.create_user("reviewer", PASSWORD, role=Scope.REVIEWER)
    with TestClient(build_app(store, settings)) as client:
        assert login(client).status_code == 303
        yield client
    store.close()


@pytest.mark.parametrize("page", ["/dashboard/queue", "/dashboard/audit"])
@pytest.mark.parametrize("value", [2**63, 10**30, MAX_OFFSET + 1])
def test_a_huge_dashboard_offset_is_a_400(
    sqlite_reviewer: TestClient, page: str, value: int
) -> None:
    response = sqlite_reviewer.get(page, params={"offset": value})
    assert response.status_code == 400
    assert "offset" in response.text


@pytest.mark.parametrize("page", ["/dashboard/queue", "/dashboard/audit"])
def test_the_dashboard_takes_the_same_largest_offset(
    sqlite_reviewer: TestClient, page: str
) -> None:
    assert sqlite_reviewer.get(page, params={"offset": MAX_OFFSET}).status_code == 200


# -- finding 7: the login throttle is per address and name, and forgets the oldest first --


def test_failures_from_one_address_do_not_lock_the_user_out_elsewhere(
    store: OversightStore, settings: GatewaySettings
) -> None:
    app = build_app(store, settings)
    with TestClient(app, client=ATTACKER) as attacker:
        for _ in range(6):
            login(attacker, password="wrong-password")
        assert login(attacker).status_code == 429  # this address is locked for this name
        victim = TestClient(app, client=VICTIM)
        response = login(victim)
        assert response.status_code == 303, response.text
        assert COOKIE_NAME in victim.cookies


def test_one_address_guessing_many_names_is_throttled(
    store: OversightStore, settings: GatewaySettings
) -> None:
    app = build_app(store, settings)
    with TestClient(app, client=ATTACKER) as attacker:
        for n in range(20):
            assert login(attacker, username=f"user{n}", password="guess").status_code == 401
        assert login(attacker).status_code == 429  # a fresh name, the right password
        assert login(TestClient(app, client=VICTIM)).status_code == 303


def test_throttle_counts_per_address_and_name() -> None:
    throttle = LoginThrottle(attempts=3, per_address=10, clock=FakeClock(step=timedelta(0)))
    for _ in range(3):
        throttle.failed("a", "admin")
    assert throttle.blocked("a", "admin")
    assert not throttle.blocked("b", "admin")
    assert not throttle.blocked("a", "other")
    throttle.succeeded("a", "admin")
    assert not throttle.blocked("a", "admin")


def test_throttle_failures_expire() -> None:
    clock = FakeClock(step=timedelta(0))
    throttle = LoginThrottle(attempts=1, window=timedelta(minutes=5), clock=clock)
    throttle.failed("a", "admin")
    assert throttle.blocked("a", "admin")
    clock.advance(timedelta(minutes=6))
    assert not throttle.blocked("a", "admin")


def test_a_full_throttle_forgets_its_oldest_entries_not_everyone() -> None:
    throttle = LoginThrottle(
        attempts=1, per_address=1000, max_entries=10, clock=FakeClock(step=timedelta(0))
    )
    for n in range(11):
        throttle.failed("a", f"user{n}")
    assert not throttle.blocked("a", "user0")  # only the oldest went
    assert all(throttle.blocked("a", f"user{n}") for n in range(1, 11))
    throttle.failed("a", "user1")  # a new failure makes an entry recent again
    throttle.failed("a", "user11")
    assert throttle.blocked("a", "user1") and not throttle.blocked("a", "user2")


def test_the_default_throttle_survives_ten_thousand_names() -> None:
    throttle = LoginThrottle(clock=FakeClock(step=timedelta(0)))
    for _ in range(5):
        throttle.failed("203.0.113.66", "admin")
    for n in range(10_001):  # the reset: more than 10,000 names
        throttle.failed(f"10.{n // 65536}.{n // 256 % 256}.{n % 256}", f"user{n}")
    assert throttle.blocked("203.0.113.66", "admin")
