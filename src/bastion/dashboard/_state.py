"""What every dashboard route shares, the page renderer, and the access checks."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar

import jinja2
from fastapi import Depends, HTTPException, Request
from fastapi.responses import HTMLResponse
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp

from bastion.dashboard.charts import ChartCache
from bastion.dashboard.keys import PlaygroundKey
from bastion.dashboard.security import LoginThrottle, SessionHolder
from bastion.dashboard.sessions import Session, SessionStore
from bastion.gateway.settings import DashboardSettings
from bastion.oversight import OversightStore, Scope
from bastion.policy import Policy

__all__ = [
    "BASE",
    "Dashboard",
    "DashboardDep",
    "LoginRequired",
    "ReviewerDep",
    "blocking",
    "is_htmx",
    "render",
]

BASE = "/dashboard"
"""Where the dashboard is mounted in the gateway app."""

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Dashboard:
    """Everything the dashboard's routes share (one per mounted dashboard, no globals).

    Attributes:
        store: the oversight store (users, queue, audit log).
        settings: the dashboard settings.
        sessions: server-side sessions.
        throttle: failed-login throttle.
        templates: the Jinja2 environment (autoescaping on).
        charts: rendered charts, reused for a while.
        gateway: the gateway app the playground sends its chats to (in process).
        policy: the guard's policy (contexts and categories for the forms).
        default_context: the guard's default deployment context.
        upstream: the upstream's name, shown in the playground.
        key: the playground's API key, issued once the gateway needs keys.
    """

    store: OversightStore
    settings: DashboardSettings
    sessions: SessionStore
    throttle: LoginThrottle
    templates: jinja2.Environment
    charts: ChartCache
    gateway: ASGIApp
    policy: Policy
    default_context: str
    upstream: str
    key: PlaygroundKey

    async def playground_for(self, session: Session | None) -> bool:
        """Whether this visitor may use the playground: dashboard users may unless it is
        off; anyone may in ``auto`` mode while the gateway needs no API key."""
        mode = self.settings.playground
        if mode == "off":
            return False
        if session is not None and session.can(Scope.REVIEWER):
            return True
        return mode == "auto" and not await blocking(self.store.has_keys)


def _dashboard(request: Request) -> Dashboard:
    dashboard = request.app.state.dashboard
    assert isinstance(dashboard, Dashboard)
    return dashboard


DashboardDep = Annotated[Dashboard, Depends(_dashboard)]


class LoginRequired(HTTPException):
    """The page needs a reviewer login; answered with a redirect to the login page."""

    def __init__(self, next_path: str) -> None:
        super().__init__(401, "log in as a reviewer")
        self.next_path = next_path


def _reviewer(request: Request) -> Session:
    holder = request.state.session
    assert isinstance(holder, SessionHolder)
    session = holder.session
    if session is None or session.user is None:
        raise LoginRequired(request.url.path)
    if not session.can(Scope.REVIEWER):
        raise HTTPException(403, "this page needs the reviewer scope")
    return session


ReviewerDep = Annotated[Session, Depends(_reviewer)]


def is_htmx(request: Request) -> bool:
    """Whether htmx sent the request (it then wants a fragment, not a page)."""
    return request.headers.get("hx-request") == "true"


async def render(
    request: Request, name: str, *, status_code: int = 200, **context: Any
) -> HTMLResponse:
    """Render a template with the shared context (base path, session, navigation)."""
    dashboard = _dashboard(request)
    holder = request.state.session
    session = holder.session if isinstance(holder, SessionHolder) else None
    shared = {
        "base": BASE,
        "session": session,
        "playground": await dashboard.playground_for(session),
    }
    html = dashboard.templates.get_template(name).render({**shared, **context})
    return HTMLResponse(html, status_code=status_code)


async def blocking(func: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run a blocking store call on a worker thread."""
    return await run_in_threadpool(func, *args, **kwargs)
