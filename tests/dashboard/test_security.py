"""Login, sessions, CSRF, secure headers, and that every page needs the right login."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from bastion.dashboard import audit, playground, review
from bastion.dashboard.security import SECURE_HEADERS
from bastion.dashboard.sessions import COOKIE_NAME, CookieSigner, SessionStore
from bastion.records.fakes import FakeClock

from ._support import PASSWORD, csrf_of, login

# Pages anyone may open; everything else under /dashboard needs a reviewer login.
PUBLIC = {
    "/",
    "/login",
    "/playground",
    "/playground/send",
    "/playground/report",
    "/playground/reset",
}
STATE_CHANGING = [
    "/login",
    "/logout",
    "/items/x/decide",
    "/playground/send",
    "/playground/report",
    "/playground/reset",
]


def _dashboard_routes() -> list[APIRoute]:
    """Every route of the dashboard's routers (all of them are mounted, see app.py)."""
    routers = (audit.router, playground.router, review.router)
    return [r for router in routers for r in router.routes if isinstance(r, APIRoute)]


def test_login_page_sets_a_strict_http_only_session_cookie(client: TestClient) -> None:
    page = client.get("/dashboard/login")
    assert page.status_code == 200
    cookie = page.headers["set-cookie"]
    assert cookie.startswith(f"{COOKIE_NAME}=")
    for flag in ("HttpOnly", "SameSite=Strict", "Path=/dashboard"):
        assert flag in cookie
    assert "Secure" not in cookie  # plain http here; https adds it


def test_every_dashboard_response_has_the_secure_headers(client: TestClient) -> None:
    for path in ("/dashboard/login", "/dashboard/queue", "/dashboard/static/htmx.min.js"):
        response = client.get(path, follow_redirects=False)
        for name, value in SECURE_HEADERS.items():
            assert response.headers[name] == value, (path, name)
        assert response.headers["cache-control"] == "no-store"


def test_every_page_but_the_public_ones_needs_a_reviewer(client: TestClient) -> None:
    routes = _dashboard_routes()
    assert len(routes) >= 14
    for route in routes:
        if route.path in PUBLIC:
            continue
        path = route.path.replace("{item_id}", "x").replace("{entry_id}", "x")
        path = path.replace("{name}", "actions")
        for method in route.methods:
            response = client.request(method, f"/dashboard{path}", follow_redirects=False)
            assert response.status_code in (303, 403), (method, path, response.status_code)
            if method == "GET":
                assert response.headers["location"].startswith("/dashboard/login?next=")


def test_htmx_requests_without_login_are_told_to_redirect(client: TestClient) -> None:
    response = client.get("/dashboard/queue", headers={"HX-Request": "true"})
    assert response.status_code == 401
    assert response.headers["hx-redirect"] == "/dashboard/login"


@pytest.mark.parametrize("path", STATE_CHANGING)
def test_state_changing_requests_need_the_csrf_token(reviewer: TestClient, path: str) -> None:
    response = reviewer.post(f"/dashboard{path}", data={"message": "hi"}, follow_redirects=False)
    assert response.status_code == 403
    assert "CSRF" in response.text
    wrong = reviewer.post(
        f"/dashboard{path}", data={"csrf_token": "forged"}, headers={"X-CSRF-Token": "forged"}
    )
    assert wrong.status_code == 403


def test_a_cross_origin_post_is_refused_even_with_the_token(reviewer: TestClient) -> None:
    token = csrf_of(reviewer.get("/dashboard/playground").text)
    response = reviewer.post(
        "/dashboard/logout", data={"csrf_token": token}, headers={"Origin": "https://evil.test"}
    )
    assert response.status_code == 403
    assert reviewer.get("/dashboard/queue", follow_redirects=False).status_code == 200


def test_login_with_a_wrong_password_fails_and_is_throttled(client: TestClient) -> None:
    for _ in range(5):
        assert login(client, password="wrong-password").status_code == 401
    assert login(client).status_code == 429  # even the right password, for a while
    assert "Too many" in login(client).text


def test_unknown_user_and_empty_fields_fail_cleanly(client: TestClient) -> None:
    assert login(client, username="nobody").status_code == 401
    assert login(client, username="", password="").status_code == 401
    long = login(client, username="x" * 5000)
    assert long.status_code == 400


def test_login_replaces_the_session_and_logout_ends_it(client: TestClient) -> None:
    client.get("/dashboard/login")
    anonymous = client.cookies[COOKIE_NAME]
    response = login(client)
    assert response.status_code == 303
    assert response.headers["location"] == "/dashboard/queue"
    assert client.cookies[COOKIE_NAME] != anonymous  # no session fixation
    page = client.get("/dashboard/queue")
    assert "reviewer (reviewer)" in page.text
    token = csrf_of(page.text)
    out = client.post("/dashboard/logout", data={"csrf_token": token}, follow_redirects=False)
    assert out.status_code == 303
    assert "Max-Age=0" in out.headers["set-cookie"]
    assert client.get("/dashboard/queue", follow_redirects=False).status_code == 303


def test_login_returns_to_a_dashboard_page_but_never_off_site(client: TestClient) -> None:
    for target, expected in [
        ("/dashboard/audit", "/dashboard/audit"),
        ("https://evil.test/", "/dashboard/queue"),
        ("//evil.test/dashboard/", "/dashboard/queue"),
    ]:
        client.cookies.clear()
        token = csrf_of(client.get("/dashboard/login").text)
        form = {"username": "reviewer", "password": PASSWORD, "csrf_token": token, "next": target}
        response = client.post("/dashboard/login", data=form, follow_redirects=False)
        assert response.headers["location"] == expected


def test_a_forged_cookie_is_an_anonymous_visitor(client: TestClient) -> None:
    login(client)
    value = client.cookies[COOKIE_NAME]
    client.cookies.clear()
    client.cookies.set(COOKIE_NAME, value[:-2] + "xx", path="/dashboard")
    assert client.get("/dashboard/queue", follow_redirects=False).status_code == 303
    client.cookies.set(COOKIE_NAME, "\x00" * 400, path="/dashboard")
    assert client.get("/dashboard/queue", follow_redirects=False).status_code == 303


def test_signer_round_trips_and_rejects_tampering() -> None:
    signer = CookieSigner(b"k" * 32)
    value = signer.sign("abc")
    assert signer.unsign(value) == "abc"
    assert signer.unsign(value + "x") is None
    assert CookieSigner(b"other-key-0123456789").unsign(value) is None
    assert signer.unsign(None) is None
    assert signer.unsign("é" * 10) is None


def test_sessions_expire_and_stay_bounded() -> None:
    clock = FakeClock()
    store = SessionStore(ttl=timedelta(hours=1), max_sessions=3, clock=clock)
    first = store.new()
    assert store.get(first.id) is first
    clock.advance(timedelta(hours=2))
    assert store.get(first.id) is None
    ids = [store.new().id for _ in range(5)]
    assert len(store) == 3
    assert store.get(ids[0]) is None
    assert store.get(ids[-1]) is not None
