"""The auth walk: every route of the app, generated from its route table, against every
kind of bad credential; each must be denied unless the route is declared public.

Routes come from ``app.routes`` (routers and mounts walked into, the dashboard included),
never from a hand-kept list, so a new route is walked as soon as it exists. Declarations:

- API routes: :data:`bastion.gateway.auth.PUBLIC_PATHS` or
  :data:`bastion.gateway.auth.ROUTE_SCOPES` (the tables ``authorize`` enforces);
- dashboard routes: :data:`DASHBOARD_ACCESS` below (the dashboard enforces its access with
  its own dependencies: a reviewer login, a CSRF token, the playground's visitor check).

A route in neither fails :func:`test_every_route_declares_its_access`.

Credentials tried: none, a wrong key, a revoked key, a key of too low a scope (client
key on reviewer routes; on the dashboard, where API keys count for nothing, an anonymous
session), a forged session cookie, and for state-changing dashboard routes a logged-in
session sending another session's CSRF token. Keyed mode (active keys exist) and open
mode (the only key revoked) are both walked.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI, routing
from fastapi.testclient import TestClient
from starlette.routing import BaseRoute, Mount

from bastion.dashboard.sessions import COOKIE_NAME
from bastion.gateway import GatewaySettings, ScriptedUpstream, create_app
from bastion.gateway.auth import PUBLIC_PATHS, ROUTE_SCOPES
from bastion.oversight import OversightStore, Scope, open_store

pytestmark = pytest.mark.reliability

PASSWORD = "walk-the-routes-0123456789"
_PARAM = re.compile(r"\{[^}]+\}")
_LOWER = {Scope.REVIEWER: Scope.CLIENT, Scope.ADMIN: Scope.REVIEWER}


@dataclass(frozen=True, slots=True)
class Needs:
    """What a dashboard route asks of its caller.

    Attributes:
        scope: None (public), ``client`` (the playground: anyone in open mode, a reviewer
            login once keys exist) or ``reviewer`` (a reviewer login).
        csrf: the session's CSRF token must come back (state-changing routes).
    """

    scope: Scope | None
    csrf: bool = False


DASHBOARD_ACCESS: dict[tuple[str, str], Needs] = {
    ("GET", "/dashboard/"): Needs(None),  # a redirect: queue, playground or login
    ("GET", "/dashboard/login"): Needs(None),
    ("POST", "/dashboard/login"): Needs(None, csrf=True),
    ("POST", "/dashboard/logout"): Needs(None, csrf=True),
    ("GET", "/dashboard/static/{path}"): Needs(None),
    ("GET", "/dashboard/queue"): Needs(Scope.REVIEWER),
    ("GET", "/dashboard/items/{item_id}"): Needs(Scope.REVIEWER),
    ("POST", "/dashboard/items/{item_id}/decide"): Needs(Scope.REVIEWER, csrf=True),
    ("GET", "/dashboard/audit"): Needs(Scope.REVIEWER),
    ("GET", "/dashboard/audit/verify"): Needs(Scope.REVIEWER),
    ("GET", "/dashboard/audit/entries/{entry_id}"): Needs(Scope.REVIEWER),
    ("GET", "/dashboard/charts"): Needs(Scope.REVIEWER),
    ("GET", "/dashboard/charts/{name}.svg"): Needs(Scope.REVIEWER),
    ("GET", "/dashboard/playground"): Needs(Scope.CLIENT),
    ("POST", "/dashboard/playground/send"): Needs(Scope.CLIENT, csrf=True),
    ("POST", "/dashboard/playground/report"): Needs(Scope.CLIENT, csrf=True),
    ("POST", "/dashboard/playground/reset"): Needs(Scope.CLIENT, csrf=True),
}
"""Every dashboard route and what it needs (the dashboard's counterpart of ROUTE_SCOPES)."""


# -- the route table -------------------------------------------------------------------


def _flat(routes: Iterable[BaseRoute]) -> Iterator[Any]:
    """Routes with included routers expanded (FastAPI >= 0.16x keeps them nested)."""
    expand = getattr(routing, "iter_route_contexts", None)
    yield from expand(list(routes)) if expand is not None else routes


def walk_routes(routes: Iterable[BaseRoute], prefix: str = "") -> Iterator[tuple[str, str]]:
    """``(method, path)`` of every endpoint, mounts walked into (static files: ``{path}``)."""
    for route in _flat(routes):
        original = getattr(route, "original_route", route)
        path = prefix + str(route.path)
        if isinstance(original, Mount):
            inner = original.routes
            yield from walk_routes(inner, path) if inner else [("GET", f"{path}/{{path}}")]
            continue
        for method in sorted(set(route.methods or ()) - {"HEAD"}):
            yield method, path


def declared(method: str, path: str) -> bool:
    return path in PUBLIC_PATHS or path in ROUTE_SCOPES or (method, path) in DASHBOARD_ACCESS


def undeclared(app: FastAPI) -> list[str]:
    return [f"{m} {p}" for m, p in walk_routes(app.routes) if not declared(m, p)]


# -- the app and its credentials -------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Credentials:
    """Keys of every scope, a revoked and a wrong one, and dashboard sessions."""

    keys: dict[Scope, str]
    revoked: str
    wrong: str = "bst_000000000000_" + "x" * 43


def _issue(store: OversightStore, *, keep_keys: bool) -> Credentials:
    keys = {scope: store.create_key(f"walk-{scope.value}", scope).secret for scope in Scope}
    revoked = store.create_key("walk-revoked", Scope.ADMIN)
    store.revoke_key(revoked.key.id)
    if not keep_keys:  # open mode: no active key left
        for key in store.list_keys():
            store.revoke_key(key.id)
    store.create_user("alice", PASSWORD, role=Scope.REVIEWER)
    store.create_user("bob", PASSWORD, role=Scope.REVIEWER)
    return Credentials(keys, revoked.secret)


@pytest.fixture(scope="module", params=["keyed", "open"])
def walked(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    gateway_settings: GatewaySettings,
    upstream: ScriptedUpstream,
) -> Iterator[tuple[str, FastAPI, Credentials]]:
    mode = str(request.param)
    path: Path = tmp_path_factory.mktemp(f"walk-{mode}") / "oversight.db"
    store = open_store(f"sqlite:///{path}")
    credentials = _issue(store, keep_keys=mode == "keyed")
    yield mode, create_app(gateway_settings, store=store, upstream=upstream), credentials
    store.close()


def _client(app: FastAPI) -> TestClient:
    return TestClient(app, base_url="http://testserver", follow_redirects=False)


_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def _session(app: FastAPI, user: str | None) -> tuple[str, str]:
    """A dashboard session (logged in as ``user``, or anonymous): (cookie, CSRF token)."""
    client = _client(app)
    page = client.get("/dashboard/login")
    token = _CSRF.search(page.text)
    assert token is not None
    if user is not None:
        form = {"username": user, "password": PASSWORD, "csrf_token": token.group(1)}
        assert client.post("/dashboard/login", data=form).status_code == 303
        token = _CSRF.search(client.get("/dashboard/queue").text)
        assert token is not None
    return str(client.cookies[COOKIE_NAME]), token.group(1)


def _concrete(path: str) -> str:
    if path.endswith("/static/{path}"):
        name = sorted(p.name for p in (resources.files("bastion.dashboard") / "static").iterdir())
        return path.replace("{path}", next(n for n in name if n.endswith(".css")))
    return _PARAM.sub("x", path)


def _send(
    client: TestClient, method: str, path: str, headers: dict[str, str], form: dict[str, str]
) -> Any:
    client.cookies.clear()  # only what a case sends explicitly
    if method == "GET":
        return client.get(_concrete(path), headers=headers)
    if path.startswith("/dashboard"):
        return client.request(method, _concrete(path), headers=headers, data=form)
    return client.request(method, _concrete(path), headers=headers, json={})


# -- the walk ---------------------------------------------------------------------------


def _bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def _api_cases(needed: Scope, creds: Credentials, mode: str) -> Iterator[tuple[str, Any, int]]:
    """(credential kind, headers, expected status) for one API route."""
    if needed is Scope.CLIENT and mode == "open":
        return  # open mode serves client traffic to anyone, by design (note 0051)
    yield "none", {}, 401
    yield "wrong key", _bearer(creds.wrong), 401
    yield "revoked key", _bearer(creds.revoked), 401
    if needed in _LOWER and mode == "keyed":
        yield "wrong scope", _bearer(creds.keys[_LOWER[needed]]), 403


def _denied_dashboard(response: Any, needs: Needs) -> bool:
    location = response.headers.get("location", "")
    to_login = response.status_code == 303 and location.startswith("/dashboard/login")
    if needs.csrf:
        return response.status_code == 403 or (needs.scope is Scope.REVIEWER and to_login)
    if needs.scope is Scope.REVIEWER:
        return to_login
    return response.status_code == 403  # the playground, once keys exist


@dataclass(frozen=True, slots=True)
class Sessions:
    """Dashboard sessions: an anonymous one (the login form's) and two reviewers'."""

    anonymous: tuple[str, str]
    alice: tuple[str, str]
    bob: tuple[str, str]

    @classmethod
    def start(cls, app: FastAPI) -> Sessions:
        return cls(_session(app, None), _session(app, "alice"), _session(app, "bob"))


def _dashboard_cases(
    creds: Credentials, sessions: Sessions, needs: Needs
) -> Iterator[tuple[str, dict[str, str], dict[str, str]]]:
    """(credential kind, headers, form) for one dashboard route."""
    (anonymous, anonymous_token), (alice, _), (_, bob_token) = (
        sessions.anonymous,
        sessions.alice,
        sessions.bob,
    )
    yield "none", {}, {}
    yield "wrong key", _bearer(creds.wrong), {}
    yield "revoked key", _bearer(creds.revoked), {}
    yield "admin key, no session", _bearer(creds.keys[Scope.ADMIN]), {}
    yield "forged cookie", {"Cookie": f"{COOKIE_NAME}=forged.{'A' * 40}"}, {}
    if not needs.csrf:
        yield "anonymous session", {"Cookie": f"{COOKIE_NAME}={anonymous}"}, {}
        return
    token = {"csrf_token": anonymous_token}
    yield "no session, a session's token", {}, token
    yield (
        "other session's CSRF token",
        {"Cookie": f"{COOKIE_NAME}={alice}"},
        {"csrf_token": bob_token},
    )
    header = {"Cookie": f"{COOKIE_NAME}={alice}", "X-CSRF-Token": bob_token}
    yield "other session's CSRF header", header, {}


def _walk(mode: str, app: FastAPI, creds: Credentials) -> tuple[int, list[str]]:
    """Every route x every credential kind: (cases walked, failures)."""
    client, walked, failures = _client(app), 0, []
    sessions = Sessions.start(app)
    for method, path in walk_routes(app.routes):
        needs = DASHBOARD_ACCESS.get((method, path))
        if path in PUBLIC_PATHS or (needs is not None and needs.scope is None and not needs.csrf):
            continue
        if needs is not None and needs.scope is Scope.CLIENT and mode == "open":
            continue  # the playground is open while the gateway is (setting ``auto``)
        if needs is None:
            for kind, headers, status in _api_cases(ROUTE_SCOPES[path], creds, mode):
                walked += 1
                got = _send(client, method, path, headers, {}).status_code
                if got != status:
                    failures.append(f"{mode}: {method} {path} [{kind}]: {got}, want {status}")
            continue
        for kind, headers, form in _dashboard_cases(creds, sessions, needs):
            walked += 1
            response = _send(client, method, path, headers, form)
            if not _denied_dashboard(response, needs):
                where = response.headers.get("location", "")
                failures.append(f"{mode}: {method} {path} [{kind}]: {response.status_code} {where}")
    return walked, failures


def test_every_route_declares_its_access(walked: tuple[str, FastAPI, Credentials]) -> None:
    _, app, _ = walked
    routes = list(walk_routes(app.routes))
    assert undeclared(app) == []
    stale = [r for r in [*DASHBOARD_ACCESS] if r not in routes]
    stale += [p for p in ROUTE_SCOPES if p not in {path for _, path in routes}]
    assert stale == []  # a declaration without its route is a typo waiting to happen


def test_a_route_without_a_declared_scope_fails_the_walk(
    gateway_settings: GatewaySettings, upstream: ScriptedUpstream, sqlite_store: OversightStore
) -> None:
    app = create_app(gateway_settings, store=sqlite_store, upstream=upstream)

    async def added() -> dict[str, str]:
        return {}

    app.add_api_route("/v1/new-thing", added, methods=["POST"])
    assert undeclared(app) == ["POST /v1/new-thing"]


def test_every_route_denies_every_bad_credential(walked: tuple[str, FastAPI, Credentials]) -> None:
    mode, app, creds = walked
    count, failures = _walk(mode, app, creds)
    assert failures == []
    assert count >= (120 if mode == "keyed" else 60)  # the walk really walked


def test_public_routes_answer_without_credentials(
    walked: tuple[str, FastAPI, Credentials],
) -> None:
    _, app, _ = walked
    client = _client(app)
    for method, path in walk_routes(app.routes):
        needs = DASHBOARD_ACCESS.get((method, path))
        public = path in PUBLIC_PATHS or (needs is not None and needs == Needs(None))
        if public and method == "GET":
            assert _send(client, method, path, {}, {}).status_code in (200, 303), path


def test_the_right_credentials_get_through(walked: tuple[str, FastAPI, Credentials]) -> None:
    """The control: each route's own scope (or a reviewer's session and token) passes, so
    the denials above are the checks at work, not a broken app."""
    mode, app, creds = walked
    client, sessions = _client(app), Sessions.start(app)
    alice, alice_token = sessions.alice
    for method, path in walk_routes(app.routes):
        needs = DASHBOARD_ACCESS.get((method, path))
        if path in ROUTE_SCOPES:
            headers = _bearer(creds.keys[ROUTE_SCOPES[path]]) if mode == "keyed" else {}
            if mode == "open" and ROUTE_SCOPES[path] is not Scope.CLIENT:
                continue  # no active key: nothing above client can pass
            got = _send(client, method, path, headers, {}).status_code
            assert got not in (401, 403), (method, path, got)
        elif needs is not None and needs.scope is Scope.REVIEWER and method == "GET":
            response = _send(client, method, path, {"Cookie": f"{COOKIE_NAME}={alice}"}, {})
            assert response.status_code not in (303, 401, 403), (path, response.status_code)
    logout = {"Cookie": f"{COOKIE_NAME}={alice}", "X-CSRF-Token": alice_token}
    assert _send(client, "POST", "/dashboard/logout", logout, {}).status_code == 303
