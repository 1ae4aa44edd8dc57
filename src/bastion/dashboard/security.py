"""The dashboard's security plumbing: session cookie, secure headers, CSRF, login throttle.

- :class:`SessionMiddleware` (pure ASGI) finds the request's session from the signed cookie,
  hands routes a :class:`SessionHolder`, and writes the cookie back (HttpOnly,
  SameSite=Strict, Path=/dashboard, Secure over HTTPS) when the session changed. It also
  adds the secure headers to every dashboard response.
- :func:`require_csrf` guards every state-changing request: the session's token must come
  back in the ``X-CSRF-Token`` header (htmx sends it) or the ``csrf_token`` form field,
  and a cross-origin ``Origin`` is refused.
- :class:`LoginThrottle` slows password guessing: a client address with too many recent
  failures for one name, or for all names together, is refused for a while. Keyed by
  (address, name), so nobody elsewhere can lock a user out (issue 22, finding 7).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable
from datetime import timedelta
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bastion.dashboard.sessions import COOKIE_NAME, CookieSigner, Session, SessionStore
from bastion.oversight import Scope as Role
from bastion.records import Clock, utc_now

__all__ = [
    "CSRF_HEADER",
    "SECURE_HEADERS",
    "CsrfDep",
    "HolderDep",
    "LoginThrottle",
    "SessionHolder",
    "SessionMiddleware",
    "require_csrf",
]

CSRF_HEADER = "X-CSRF-Token"

SECURE_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; "
        "object-src 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}


class SessionHolder:
    """The request's session, created or replaced on demand; the middleware writes the cookie.

    Args:
        store: where sessions live.
        session: the session the request's cookie names, if any and still live.
    """

    def __init__(self, store: SessionStore, session: Session | None) -> None:
        self._store = store
        self.session = session
        self.changed = False

    def ensure(self) -> Session:
        """The session, starting an anonymous one when there is none."""
        if self.session is None:
            self.session = self._store.new()
            self.changed = True
        return self.session

    def login(self, user: str, role: Role) -> Session:
        """Replace the session with a new one for ``user`` (a new id: no fixation)."""
        if self.session is not None:
            self._store.drop(self.session.id)
        self.session = self._store.new(user=user, role=role)
        self.changed = True
        return self.session

    def logout(self) -> None:
        """Forget the session; the cookie is cleared."""
        if self.session is not None:
            self._store.drop(self.session.id)
        self.session = None
        self.changed = True


class SessionMiddleware:
    """Resolves the session cookie and adds the secure headers (see the module docstring).

    Args:
        app: the dashboard app.
        store: the sessions.
        signer: signs and checks the cookie.
        path: the cookie's path (where the dashboard is mounted).
    """

    def __init__(
        self, app: ASGIApp, *, store: SessionStore, signer: CookieSigner, path: str
    ) -> None:
        self.app = app
        self._store = store
        self._signer = signer
        self._path = path

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        cookie = _cookie(scope, COOKIE_NAME)
        holder = SessionHolder(self._store, self._store.get(self._signer.unsign(cookie)))
        scope.setdefault("state", {})["session"] = holder
        secure = scope.get("scheme") == "https"

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in SECURE_HEADERS.items():
                    if name not in headers:
                        headers[name] = value
                if "cache-control" not in headers:
                    headers["Cache-Control"] = "no-store"
                if holder.changed:
                    headers.append("Set-Cookie", self._set_cookie(holder.session, secure))
            await send(message)

        await self.app(scope, receive, send_with_headers)

    def _set_cookie(self, session: Session | None, secure: bool) -> str:
        flags = f"Path={self._path}; HttpOnly; SameSite=Strict" + ("; Secure" if secure else "")
        if session is None:
            return f"{COOKIE_NAME}=; Max-Age=0; {flags}"
        return f"{COOKIE_NAME}={self._signer.sign(session.id)}; {flags}"


def _cookie(scope: Scope, name: str) -> str | None:
    for key, value in scope.get("headers", ()):
        if key != b"cookie":
            continue
        for part in value.decode("latin-1").split(";"):
            k, _, v = part.strip().partition("=")
            if k == name:
                return str(v)
    return None


def _holder(request: Request) -> SessionHolder:
    holder = request.state.session
    assert isinstance(holder, SessionHolder)
    return holder


HolderDep = Annotated[SessionHolder, Depends(_holder)]


async def require_csrf(request: Request, holder: HolderDep) -> Session:
    """The session of a state-changing request whose CSRF token and origin check out.

    Raises:
        HTTPException: 403 without a session, with a missing or wrong token, or from
            another origin.
    """
    origin = request.headers.get("origin")
    if origin is not None and origin != _own_origin(request):
        raise HTTPException(403, "cross-origin request refused")
    session = holder.session
    token = request.headers.get(CSRF_HEADER)
    if token is None and _is_form(request):
        token = _text((await request.form()).get("csrf_token"))
    if session is None or not session.csrf_ok(token):
        raise HTTPException(403, "missing or invalid CSRF token; reload the page")
    return session


def _is_form(request: Request) -> bool:
    kind = request.headers.get("content-type", "")
    return kind.startswith(("application/x-www-form-urlencoded", "multipart/form-data"))


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _own_origin(request: Request) -> str:
    return f"{request.url.scheme}://{request.headers.get('host', request.url.netloc)}"


CsrfDep = Annotated[Session, Depends(require_csrf)]


class LoginThrottle:
    """At most ``attempts`` failed logins per (client address, name) and ``per_address``
    per address, within ``window``.

    Memory stays bounded: past ``max_entries`` keys the least recently failed ones are
    forgotten, one at a time, never everyone's counters at once.

    Args:
        attempts: failures allowed per address and name per window.
        per_address: failures allowed per address (over all names) per window.
        window: how far back failures count.
        max_entries: keys remembered per table (pairs, addresses).
        clock: the time source.
    """

    def __init__(
        self,
        *,
        attempts: int = 5,
        per_address: int = 20,
        window: timedelta = timedelta(minutes=5),
        max_entries: int = 20_000,
        clock: Clock = utc_now,
    ) -> None:
        self._attempts = attempts
        self._per_address = per_address
        self._clock = clock
        window_s = window.total_seconds()
        self._pairs = _Failures(window_s, keep=attempts, max_entries=max_entries)
        self._addresses = _Failures(window_s, keep=per_address, max_entries=max_entries)
        self._lock = threading.Lock()

    def blocked(self, address: str, name: str) -> bool:
        """Whether this address has used up its failures, for ``name`` or overall."""
        now = self._clock().timestamp()
        with self._lock:
            return (
                self._pairs.count((address, name), now) >= self._attempts
                or self._addresses.count(address, now) >= self._per_address
            )

    def failed(self, address: str, name: str) -> None:
        """Count a failure of ``address`` for ``name``."""
        now = self._clock().timestamp()
        with self._lock:
            self._pairs.add((address, name), now)
            self._addresses.add(address, now)

    def succeeded(self, address: str, name: str) -> None:
        """Forget this address's failures for ``name`` (its overall count stays)."""
        with self._lock:
            self._pairs.forget((address, name))


class _Failures:
    """The last ``keep`` failure times per key, least recently failed key first (the
    caller holds the lock)."""

    def __init__(self, window_s: float, *, keep: int, max_entries: int) -> None:
        self._window_s = window_s
        self._keep = max(1, keep)
        self._max = max(1, max_entries)
        self._times: OrderedDict[Hashable, list[float]] = OrderedDict()

    def count(self, key: Hashable, now: float) -> int:
        times = self._times.get(key)
        if times is None:
            return 0
        cutoff = now - self._window_s
        times[:] = [t for t in times if t >= cutoff]
        if not times:
            del self._times[key]
        return len(times)

    def add(self, key: Hashable, now: float) -> None:
        self.count(key, now)
        times = self._times.setdefault(key, [])
        times.append(now)
        del times[: -self._keep]
        self._times.move_to_end(key)
        while len(self._times) > self._max:
            self._times.popitem(last=False)

    def forget(self, key: Hashable) -> None:
        self._times.pop(key, None)
