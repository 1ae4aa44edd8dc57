"""The dashboard app and the one hook the gateway calls: :func:`mount_dashboard`."""

from __future__ import annotations

import logging
from datetime import timedelta
from importlib import resources
from typing import Any

import jinja2
import markupsafe
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException

from bastion.core.errors import InputError, RecordError
from bastion.dashboard import audit, playground, review
from bastion.dashboard._state import BASE, Dashboard, LoginRequired, is_htmx, render
from bastion.dashboard.charts import ChartCache
from bastion.dashboard.keys import PlaygroundKey
from bastion.dashboard.security import LoginThrottle, SessionMiddleware
from bastion.dashboard.sessions import CookieSigner, SessionStore
from bastion.gateway.settings import GatewaySettings
from bastion.oversight import ConflictError, NotFoundError, OversightStore
from bastion.records import Clock, utc_now

__all__ = ["create_dashboard", "mount_dashboard"]

_log = logging.getLogger("bastion.dashboard")


def mount_dashboard(
    app: FastAPI,
    *,
    store: OversightStore,
    settings: GatewaySettings,
    clock: Clock = utc_now,
    sessions: SessionStore | None = None,
) -> None:
    """Mount the dashboard at ``/dashboard`` of a gateway app built by ``create_app``.

    Args:
        app: the gateway app (the playground sends its chats to it, in process).
        store: the oversight store (users, queue, audit log).
        settings: the gateway's settings (``settings.dashboard``).
        clock: sessions' and charts' time source.
        sessions: the session store; None makes one with ``session_hours`` and ``clock``.
    """
    gateway = app.state.gateway
    guard = gateway.service.guard
    if sessions is None:
        ttl = timedelta(hours=settings.dashboard.session_hours)
        sessions = SessionStore(ttl=ttl, clock=clock)
    dashboard = Dashboard(
        store=store,
        settings=settings.dashboard,
        sessions=sessions,
        throttle=LoginThrottle(clock=clock),
        templates=_templates(),
        charts=ChartCache(store.stats, ttl_s=settings.dashboard.chart_cache_s, clock=clock),
        gateway=app,
        policy=guard.policy,
        default_context=guard.config.context,
        upstream=gateway.upstream_name,
        key=PlaygroundKey(),
    )
    app.mount(BASE, create_dashboard(dashboard), name="dashboard")
    app.add_api_route("/", _to_dashboard, methods=["GET"], include_in_schema=False)


async def _to_dashboard() -> Response:
    return RedirectResponse(f"{BASE}/", 303)


def create_dashboard(dashboard: Dashboard) -> FastAPI:
    """The dashboard as its own ASGI app (mounted by :func:`mount_dashboard`)."""
    sub = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
    sub.state.dashboard = dashboard
    sub.add_middleware(
        SessionMiddleware,
        store=dashboard.sessions,
        signer=CookieSigner(),
        path=BASE,
    )
    static = resources.files("bastion.dashboard") / "static"
    sub.mount("/static", StaticFiles(directory=str(static)), name="static")
    for module in (review, audit, playground):
        sub.include_router(module.router)
    sub.add_exception_handler(HTTPException, _on_http)
    sub.add_exception_handler(RequestValidationError, _on_validation)
    sub.add_exception_handler(InputError, _on_input)
    sub.add_exception_handler(RecordError, _on_store)
    return sub


def _templates() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("bastion.dashboard", "templates"),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )


async def _error(request: Request, status: int, message: str) -> Response:
    """An error as a page, or as a fragment for htmx (which swaps only 2xx by default:
    ``HX-Retarget``/``HX-Reswap`` put the message where the user sees it)."""
    if is_htmx(request):
        html = f'<p class="error" role="alert">{_escape(message)}</p>'
        headers = {"HX-Retarget": "#errors", "HX-Reswap": "innerHTML"}
        return Response(html, status_code=status, media_type="text/html", headers=headers)
    return await render(request, "error.html", status_code=status, status=status, message=message)


def _escape(text: str) -> str:
    return str(markupsafe.escape(text))


async def _on_http(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if isinstance(exc, LoginRequired):
        if is_htmx(request):
            return Response(status_code=401, headers={"HX-Redirect": f"{BASE}/login"})
        return RedirectResponse(f"{BASE}/login?next={exc.next_path}", 303)
    return await _error(request, exc.status_code, str(exc.detail))


async def _on_validation(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    first: dict[str, Any] = exc.errors()[0] if exc.errors() else {}
    where = ".".join(str(p) for p in first.get("loc", ()) if p not in ("body", "query"))
    return await _error(request, 400, f"{where or 'input'}: {first.get('msg', 'invalid')}")


async def _on_input(request: Request, exc: Exception) -> Response:
    status = (
        404 if isinstance(exc, NotFoundError) else 409 if isinstance(exc, ConflictError) else 400
    )
    return await _error(request, status, str(exc))


async def _on_store(request: Request, exc: Exception) -> Response:
    _log.error("oversight store failed: %s", exc)
    return await _error(request, 503, "the oversight store is not available; try again")
