"""Oversight endpoints: user reports and appeals, the review API, audit search.

Scopes (see :mod:`bastion.gateway.auth`): reports and appeals need ``client``; the
review queue and the audit log need ``reviewer``, in open mode too. A review decision
records the key that made it, never a name from the body. Without an oversight store
these answer 503.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import datetime
from enum import Enum
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from bastion.core.types import Action
from bastion.gateway._http import SafeJSONResponse, error_response
from bastion.gateway._state import Gateway, GatewayDep
from bastion.gateway.auth import key_identity
from bastion.gateway.schemas import MAX_LIMIT, MAX_OFFSET
from bastion.oversight import (
    AuditQuery,
    ConflictError,
    EntryKind,
    ItemStatus,
    NewReport,
    NewReview,
    NotFoundError,
    OversightStore,
    ReportKind,
    ReviewOutcome,
)

__all__ = ["oversight_router", "to_json"]

oversight_router = APIRouter(tags=["oversight"])

Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT)]
Offset = Annotated[int, Query(ge=0, le=MAX_OFFSET)]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ReportBody(_Body):
    """A user's report: a bad answer, a wrong refusal (``kind=appeal`` contests it)."""

    request_id: str = Field(min_length=1, max_length=200)
    reason: str = Field(default="", max_length=4000)
    kind: Literal["report", "appeal"] = "report"
    entry_id: str | None = Field(default=None, max_length=64)


class AppealBody(_Body):
    """An appeal of a refusal."""

    request_id: str = Field(min_length=1, max_length=200)
    reason: str = Field(default="", max_length=4000)
    entry_id: str | None = Field(default=None, max_length=64)


class DecisionBody(_Body):
    """A reviewer's verdict: uphold, or overturn with the right action.

    The reviewer is the authenticated key (a ``reviewer`` field is refused)."""

    outcome: ReviewOutcome
    rationale: str = Field(min_length=1, max_length=4000)
    action: Action | None = None
    category: str | None = Field(default=None, max_length=100)


def to_json(value: Any) -> Any:
    """A frozen oversight record (or a tuple of them) as JSON-ready data."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_json(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, tuple | list):
        return [to_json(v) for v in value]
    if isinstance(value, dict):
        return {k: to_json(v) for k, v in value.items()}
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def _who(request: Request) -> str | None:
    """The authenticated key's identity; None in open mode (client routes only)."""
    key = getattr(request.state, "api_key", None)
    return key_identity(key) if key is not None else None


async def _run(
    gateway: Gateway, work: Callable[[OversightStore], Any], *, status: int = 200
) -> Response:
    """Run ``work`` on the store off the event loop; store errors become 404 / 409."""
    store = gateway.store
    if store is None:
        return error_response(503, "this gateway has no oversight store", "not_configured")
    try:
        result = await run_in_threadpool(work, store)
    except NotFoundError as exc:
        return error_response(404, str(exc), "not_found")
    except ConflictError as exc:
        return error_response(409, str(exc), "conflict")
    return SafeJSONResponse(to_json(result), status_code=status)


@oversight_router.post("/v1/reports", status_code=201)
async def post_report(body: ReportBody, request: Request, gateway: GatewayDep) -> Response:
    """Flag a bad answer or a wrong decision (by the request id of the reply); it goes to
    the review queue. ``kind=appeal`` contests a refusal, like ``/v1/appeals``."""
    report = NewReport(
        ReportKind(body.kind), body.request_id, body.reason, body.entry_id, _who(request)
    )
    return await _run(gateway, lambda store: store.add_report(report), status=201)


@oversight_router.post("/v1/appeals", status_code=201)
async def post_appeal(body: AppealBody, request: Request, gateway: GatewayDep) -> Response:
    """Appeal a refusal: it goes to the review queue."""
    report = NewReport(
        ReportKind.APPEAL, body.request_id, body.reason, body.entry_id, _who(request)
    )
    return await _run(gateway, lambda store: store.add_report(report), status=201)


@oversight_router.get("/v1/review/queue")
async def review_queue(
    gateway: GatewayDep,
    status: Literal["open", "resolved", "all"] = "open",
    limit: Limit = 50,
    offset: Offset = 0,
) -> Response:
    """Queue items, oldest first."""
    chosen = None if status == "all" else ItemStatus(status)

    def page(store: OversightStore) -> Any:
        return {"items": store.queue(status=chosen, limit=limit, offset=offset)}

    return await _run(gateway, page)


@oversight_router.get("/v1/review/{item_id}")
async def review_item(item_id: str, gateway: GatewayDep) -> Response:
    """One item with the decision entry under review (conversation, layer verdicts)."""

    def detail(store: OversightStore) -> Any:
        item = store.get_item(item_id)
        report = store.get_report(item.report_id) if item.report_id else None
        return {"item": item, "entry": store.get_entry(item.entry_id), "report": report}

    return await _run(gateway, detail)


@oversight_router.post("/v1/review/{item_id}/decision")
async def review_decision(
    item_id: str, body: DecisionBody, request: Request, gateway: GatewayDep
) -> Response:
    """Uphold or overturn an item; stored as a new record superseding the decision.

    The reviewer recorded is the authenticated ``reviewer`` key (``authorize`` refuses
    every other caller, open mode included)."""
    reviewer = _who(request)
    if reviewer is None:  # only without a key store, where _run answers 503 anyway
        return error_response(401, "a reviewer API key is required", "authentication_error")
    review = NewReview(body.outcome, body.rationale, reviewer, body.action, body.category)
    return await _run(gateway, lambda store: store.decide(item_id, review))


@oversight_router.get("/v1/audit")
async def audit_search(  # noqa: PLR0913 - one query parameter per filter
    gateway: GatewayDep,
    kind: EntryKind | None = None,
    action: str | None = None,
    category: str | None = None,
    request_id: str | None = None,
    text: Annotated[str | None, Query(max_length=200)] = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> Response:
    """Search the audit log, newest first."""
    query = AuditQuery(
        kind=kind,
        action=action,
        category=category,
        request_id=request_id,
        text=text,
        limit=limit,
        offset=offset,
    )

    def page(store: OversightStore) -> Any:
        return {"entries": store.search(query), "total": store.count(query)}

    return await _run(gateway, page)


@oversight_router.get("/v1/audit/verify")
async def audit_verify(gateway: GatewayDep) -> Response:
    """Verify the audit log's hash chain; names the first broken link."""
    return await _run(gateway, lambda store: store.verify())


@oversight_router.get("/v1/audit/{entry_id}")
async def audit_entry(entry_id: str, gateway: GatewayDep) -> Response:
    """One audit entry with its stored (redacted) payload."""
    return await _run(gateway, lambda store: store.get_entry(entry_id))
