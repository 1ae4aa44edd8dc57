"""Login, logout, the review queue and an item's detail, where reviewers uphold or overturn."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, HTTPException, Query, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel, Field

from bastion.core.errors import InputError
from bastion.core.types import Action
from bastion.dashboard._state import (
    BASE,
    Dashboard,
    DashboardDep,
    ReviewerDep,
    blocking,
    is_htmx,
    render,
)
from bastion.dashboard.security import CsrfDep, HolderDep
from bastion.gateway.schemas import MAX_OFFSET
from bastion.oversight import (
    AuditEntry,
    AuditQuery,
    ConflictError,
    EntryKind,
    ItemStatus,
    NewReview,
    NotFoundError,
    ReviewOutcome,
    Scope,
)

__all__ = ["router"]

router = APIRouter()

_PAGE = 50


@router.get("/")
async def home(holder: HolderDep, dashboard: DashboardDep) -> Response:
    """Reviewers land on the queue, everyone else on the playground (or the login)."""
    session = holder.session
    if session is not None and session.can(Scope.REVIEWER):
        return RedirectResponse(f"{BASE}/queue", 303)
    if await dashboard.playground_for(session):
        return RedirectResponse(f"{BASE}/playground", 303)
    return RedirectResponse(f"{BASE}/login", 303)


@router.get("/login")
async def login_page(request: Request, holder: HolderDep, next: str = "") -> Response:
    """The login form (it starts an anonymous session, so the form carries a CSRF token)."""
    holder.ensure()
    return await render(request, "login.html", page="login", next=_safe_next(next), username="")


class LoginForm(BaseModel):
    """The login form's fields (the CSRF token is checked separately)."""

    username: str = Field(default="", max_length=200)
    password: str = Field(default="", max_length=1000)
    next: str = Field(default="", max_length=2000)


@router.post("/login")
async def login(
    request: Request,
    dashboard: DashboardDep,
    holder: HolderDep,
    _: CsrfDep,
    form: Annotated[LoginForm, Form()],
) -> Response:
    """Check the password; on success a new session replaces the anonymous one.

    Failures are throttled per client address and name (and per address overall)."""
    name, next = form.username.strip(), form.next
    address, key = _client_address(request), name.lower()
    if dashboard.throttle.blocked(address, key):
        message = "Too many failed attempts; wait a few minutes."
        return await _login_error(request, name, next, message, 429)
    user = await blocking(dashboard.store.authenticate_user, name, form.password) if name else None
    if user is None or not user.role.allows(Scope.REVIEWER):
        dashboard.throttle.failed(address, key)
        return await _login_error(request, name, next, "Wrong user name or password.", 401)
    dashboard.throttle.succeeded(address, key)
    holder.login(user.username, user.role)
    return RedirectResponse(_safe_next(next) or f"{BASE}/queue", 303)


def _client_address(request: Request) -> str:
    """The peer's address (behind a proxy, what uvicorn's ``--forwarded-allow-ips`` trusts)."""
    return request.client.host if request.client is not None else "unknown"


async def _login_error(
    request: Request, name: str, next: str, message: str, status: int
) -> Response:
    return await render(
        request,
        "login.html",
        status_code=status,
        page="login",
        next=_safe_next(next),
        username=name,
        error=message,
    )


def _safe_next(path: str) -> str:
    """Only dashboard paths: no open redirect to another site."""
    ok = path.startswith(f"{BASE}/") and not path.startswith("//") and "\\" not in path
    return path if ok else ""


@router.post("/logout")
async def logout(holder: HolderDep, _: CsrfDep) -> Response:
    """End the session."""
    holder.logout()
    return RedirectResponse(f"{BASE}/login", 303)


@router.get("/queue")
async def queue(
    request: Request,
    dashboard: DashboardDep,
    _: ReviewerDep,
    status: Annotated[str, Query(pattern="^(open|resolved|all)$")] = "open",
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> Response:
    """Open (or resolved, or all) items, oldest first; htmx asks for the rows only."""
    wanted = None if status == "all" else ItemStatus(status)
    items = await blocking(dashboard.store.queue, status=wanted, limit=_PAGE + 1, offset=offset)
    context: dict[str, Any] = {
        "items": items[:_PAGE],
        "status": status,
        "more": len(items) > _PAGE,
        "offset": offset,
        "limit": _PAGE,
    }
    if is_htmx(request):
        return await render(request, "_queue_rows.html", **context)
    return await render(request, "queue.html", page="queue", **context)


@router.get("/items/{item_id}")
async def item(request: Request, item_id: str, dashboard: DashboardDep, _: ReviewerDep) -> Response:
    """An item with the whole conversation, each layer's verdict, reports and reviews."""
    return await render(
        request, "item.html", page="queue", **await _item_context(dashboard, item_id)
    )


async def _item_context(dashboard: Dashboard, item_id: str) -> dict[str, Any]:
    store = dashboard.store
    found = await blocking(store.get_item, item_id)
    entry = await blocking(store.get_entry, found.entry_id)
    reports: tuple[AuditEntry, ...] = ()
    if found.request_id:
        query = AuditQuery(kind=EntryKind.REPORT, request_id=found.request_id, limit=100)
        reports = await blocking(store.search, query)
    payload = entry.payload
    return {
        "item": found,
        "entry": entry,
        "decision": payload.get("decision") or {},
        "messages": payload.get("messages") or [],
        "response": payload.get("response"),
        "enforced": payload.get("enforced"),
        "reports": [_report_view(r) for r in reports],
        "reviews": await blocking(store.review_decisions, item_id=item_id),
        "actions": [a.value for a in Action],
        "categories": sorted(dashboard.policy.lookup),
    }


def _report_view(entry: AuditEntry) -> dict[str, Any]:
    report = entry.payload.get("report") or {}
    return {
        "created_at": entry.created_at.strftime("%Y-%m-%d %H:%M:%S UTC"),
        "kind": report.get("kind", "report"),
        "reason": report.get("reason", ""),
        "reporter": report.get("reporter"),
    }


class ReviewForm(BaseModel):
    """The review form's fields."""

    outcome: str = Field(default="", max_length=20)
    rationale: str = Field(default="", max_length=4000)
    action: str = Field(default="", max_length=20)
    category: str = Field(default="", max_length=100)


@router.post("/items/{item_id}/decide")
async def decide(
    request: Request,
    item_id: str,
    dashboard: DashboardDep,
    reviewer: ReviewerDep,
    _: CsrfDep,
    form: Annotated[ReviewForm, Form()],
) -> Response:
    """Record an uphold or an overturn (a new review record superseding the decision)."""
    try:
        review = _review(dashboard, reviewer.user or "", form)
        await blocking(dashboard.store.decide, item_id, review)
    except ConflictError as exc:
        raise HTTPException(409, str(exc)) from None
    except InputError as exc:
        if isinstance(exc, NotFoundError):
            raise
        context = await _item_context(dashboard, item_id)
        return await render(
            request, "item.html", status_code=400, page="queue", error=str(exc), **context
        )
    return RedirectResponse(f"{BASE}/items/{item_id}", 303)


def _review(dashboard: Dashboard, reviewer: str, form: ReviewForm) -> NewReview:
    """The review from the form; a bad value is an :class:`InputError`."""
    if form.outcome not in {o.value for o in ReviewOutcome}:
        raise InputError("choose uphold or overturn")
    if form.action and form.action not in {a.value for a in Action}:
        raise InputError(f"unknown action {form.action!r}")
    if form.category and form.category not in dashboard.policy.lookup:
        raise InputError(f"unknown category {form.category!r}")
    if not form.rationale.strip():
        raise InputError("a rationale is required")
    return NewReview(
        outcome=ReviewOutcome(form.outcome),
        rationale=form.rationale.strip(),
        reviewer=reviewer,
        action=Action(form.action) if form.action else None,
        category=form.category or None,
    )
