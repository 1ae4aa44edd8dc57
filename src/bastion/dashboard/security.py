"""The dashboard's security plumbing: session cookie, secure headers, CSRF, login throttle.

- :class:`SessionMiddleware` (pure ASGI) finds the request's session from the signed cookie,
  hands routes a :class:`SessionHolder`, and writes the cookie back (HttpOnly,
  SameSite=Strict, Path=/dashboard, Secure over HTTPS) when the session changed. It also
  adds the secure headers to every dashboard response.
- :func:`require_csrf` guards every state-changing request: the session's token must come
  back in the ``X-CSRF-Token`` header (htmx sends it) or the ``csrf_token`` form field,
  and a cross-origin ``Origin`` is refused.
- :class:`LoginThrottle` slows password guessing: a name with too many recent failures is
  refused for a while.
"""

from __future__ import annotations

import threading
from collections import deque
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
    """At most ``attempts`` failed logins per name within ``window``.

    Args:
        attempts: failures allowed per window.
        window: how far back failures count.
        clock: the time source.
    """

    def __init__(
        self, *, attempts: int = 5, window: timedelta = timedelta(minutes=5), clock: Clock = utc_now
    ) -> None:
        self._attempts = attempts
        self._window = window
        self._clock = clock
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def blocked(self, name: str) -> bool:
        """Whether ``name`` has used up its failures for now."""
        with self._lock:
            return len(self._recent(name)) >= self._attempts

    def failed(self, name: str) -> None:
        """Count a failure for ``name``."""
        with self._lock:
            if len(self._failures) > 10_000:
                self._failures.clear()
            self._recent(name).append(self._clock().timestamp())

    def succeeded(self, name: str) -> None:
        """Forget ``name``'s failures."""
        with self._lock:
            self._failures.pop(name, None)

    def _recent(self, name: str) -> deque[float]:
        times = self._failures.setdefault(name, deque())
        cutoff = self._clock().timestamp() - self._window.total_seconds()
        while times and times[0] < cutoff:
            times.popleft()
        return times
