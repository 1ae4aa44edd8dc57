"""Who may call what: API-key scopes per route, the public routes, per-key rate limits.

Every route of the app passes :func:`authorize` (an app-wide dependency). The routes
anyone may call are listed once, in :data:`PUBLIC_PATHS`; every other route needs the
scope :data:`ROUTE_SCOPES` gives it, and a route missing from that table needs ``admin``
(fail closed). While the store holds no active key the API is open for client traffic
only ("open mode": checks, chat completions, moderations, reports and appeals, so a fresh
install works out of the box); the first ``bastion keys create`` closes it. Routes above
the ``client`` scope (the review queue, review decisions, the audit log) always need a
key of their scope, open mode or not (design note 0051): anonymous callers must never
read stored conversations or write the human labels training learns from. The dashboard,
mounted at ``/dashboard``, authenticates its own users with login sessions.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from fastapi import HTTPException, Request
from starlette.concurrency import run_in_threadpool

from bastion.oversight import ApiKey, KeyStore, Scope

__all__ = [
    "PUBLIC_PATHS",
    "ROUTE_SCOPES",
    "Access",
    "RateLimiter",
    "access_summary",
    "authorize",
    "bearer",
    "key_identity",
]

PUBLIC_PATHS: frozenset[str] = frozenset(
    {
        "/",
        "/healthz",
        "/readyz",
        "/metrics",
        "/docs",
        "/docs/oauth2-redirect",
        "/redoc",
        "/openapi.json",
    }
)
"""Routes reachable without a key (ops probes, API docs, the redirect to the dashboard)."""

ROUTE_SCOPES: dict[str, Scope] = {
    "/v1/chat/completions": Scope.CLIENT,
    "/v1/moderations": Scope.CLIENT,
    "/v1/guard/check": Scope.CLIENT,
    "/v1/reports": Scope.CLIENT,
    "/v1/appeals": Scope.CLIENT,
    "/v1/review/queue": Scope.REVIEWER,
    "/v1/review/{item_id}": Scope.REVIEWER,
    "/v1/review/{item_id}/decision": Scope.REVIEWER,
    "/v1/audit": Scope.REVIEWER,
    "/v1/audit/verify": Scope.REVIEWER,
    "/v1/audit/{entry_id}": Scope.REVIEWER,
}
"""The scope each non-public route needs (scopes include the ones below them)."""


class RateLimiter:
    """A token bucket per key: ``rate`` requests per second, bursts up to ``burst``.

    Args:
        rate: tokens added per second; 0 turns limiting off.
        burst: bucket size.
        clock: monotonic seconds (tests pass a fake).
    """

    def __init__(
        self, rate: float, burst: int, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._rate, self._burst, self._clock = rate, max(1, burst), clock
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def take(self, key: str) -> float:
        """Spend one token of ``key``'s bucket: 0.0 when allowed, else seconds to wait."""
        if self._rate <= 0:
            return 0.0
        with self._lock:
            now = self._clock()
            tokens, last = self._buckets.get(key, (float(self._burst), now))
            tokens = min(float(self._burst), tokens + (now - last) * self._rate)
            if tokens >= 1.0:
                self._buckets[key] = (tokens - 1.0, now)
                return 0.0
            self._buckets[key] = (tokens, now)
            return (1.0 - tokens) / self._rate

    def charge(self, key: str, tokens: float) -> None:
        """Bill ``tokens`` more to ``key`` (the rest of an admitted request's cost, see
        :mod:`bastion.gateway.limits`); the balance may go negative, and the key then waits
        it off at ``rate`` tokens per second."""
        if self._rate <= 0 or tokens <= 0:
            return
        with self._lock:
            now = self._clock()
            balance, last = self._buckets.get(key, (float(self._burst), now))
            balance = min(float(self._burst), balance + (now - last) * self._rate)
            self._buckets[key] = (balance - tokens, now)


@dataclass(frozen=True, slots=True)
class Access:
    """API keys (from the store, if any) and their rate limiter."""

    keys: KeyStore | None
    limiter: RateLimiter

    def check(self, secret: str, needed: Scope) -> ApiKey | None:
        """The caller's key, or None where no key is needed.

        No key is needed without a key store, or in open mode (no active key yet) for a
        ``client`` route. Reviewer and admin routes need a key of their scope whatever
        the key state (design note 0051).

        Raises:
            HTTPException: 401 (no or unknown key), 403 (scope too low), 429 (rate).
        """
        if self.keys is None:
            return None
        key = self.keys.authenticate_key(secret) if secret else None
        if key is None:
            if needed is Scope.CLIENT and not self.keys.has_keys():
                return None
            raise HTTPException(401, _missing_key(needed))
        if not key.scope.allows(needed):
            raise HTTPException(403, f"this key's scope {key.scope.value!r} cannot call this")
        wait = self.limiter.take(key.id)
        if wait > 0:
            headers = {"Retry-After": str(max(1, math.ceil(wait)))}
            raise HTTPException(429, "rate limit exceeded for this key", headers=headers)
        return key


def _missing_key(needed: Scope) -> str:
    if needed is Scope.CLIENT:
        return "a valid API key is required (Authorization: Bearer ...)"
    return (
        f"a valid {needed.value} API key is required (Authorization: Bearer ...), "
        "also while the gateway has no keys: open mode covers client traffic only"
    )


def key_identity(key: ApiKey) -> str:
    """Who a key authenticates, as review records name them: ``key:<id> (<name>)``."""
    return f"key:{key.id}" if key.name == key.id else f"key:{key.id} ({key.name})"


def access_summary(keys: KeyStore | None) -> str:
    """One line for the start-up banner and log: what the API lets callers do (blocking)."""
    if keys is None:
        return "access: no oversight store, so no API keys; the review and audit API is off"
    if keys.has_keys():
        return "access: every /v1 route needs an API key of its scope"
    return (
        "access: open mode (no API key yet) for client traffic only: /v1/guard/check, "
        "/v1/chat/completions, /v1/moderations, /v1/reports and /v1/appeals need no key; "
        "the review and audit API needs a reviewer key (bastion keys create --scope "
        "reviewer; any key closes open mode) and the dashboard a reviewer login"
    )


def bearer(request: Request) -> str:
    """The bearer token of the request, or ``""``."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


async def authorize(request: Request) -> None:
    """The app-wide dependency: public routes pass, others need their scope's key.

    The caller's key (None in open mode) is left in ``request.state.api_key``.
    """
    route = request.scope.get("route")
    path = str(getattr(route, "path", request.url.path))
    request.state.api_key = None
    if path in PUBLIC_PATHS:
        return
    access: Access = request.app.state.gateway.access
    needed = ROUTE_SCOPES.get(path, Scope.ADMIN)
    request.state.api_key = await run_in_threadpool(access.check, bearer(request), needed)
