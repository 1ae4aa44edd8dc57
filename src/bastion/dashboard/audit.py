"""Audit search, chain verification, one entry's stored payload, and the charts."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field

from bastion.core.errors import InputError
from bastion.core.types import Action
from bastion.dashboard._state import DashboardDep, ReviewerDep, blocking, is_htmx, render
from bastion.dashboard.charts import CHARTS, WINDOWS
from bastion.gateway.schemas import MAX_OFFSET
from bastion.oversight import AuditQuery, EntryKind

__all__ = ["router"]

router = APIRouter()

_PAGE = 50


class AuditFilters(BaseModel):
    """The audit search form (every field optional; set ones are AND-ed)."""

    text: str = Field(default="", max_length=500)
    kind: str = Field(default="", max_length=200)
    action: str = Field(default="", max_length=200)
    category: str = Field(default="", max_length=200)
    direction: str = Field(default="", max_length=200)
    request_id: str = Field(default="", max_length=200)
    since: str = Field(default="", max_length=32)
    offset: int = Field(default=0, ge=0, le=MAX_OFFSET)


@router.get("/audit")
async def audit(
    request: Request,
    dashboard: DashboardDep,
    _: ReviewerDep,
    filters: Annotated[AuditFilters, Query()],
) -> Response:
    """Search the audit log, newest first; htmx asks for the rows only."""
    context: dict[str, Any] = {"entries": (), "total": 0, "offset": filters.offset, "more": False}
    try:
        query = _query(filters)
        entries = await blocking(dashboard.store.search, query)
        total = await blocking(dashboard.store.count, query)
        set_fields = {k: v for k, v in filters.model_dump().items() if v and k != "offset"}
        following = urlencode({**set_fields, "offset": filters.offset + _PAGE})
        more = filters.offset + len(entries) < total
        context.update(entries=entries, total=total, more=more, next_query=following)
    except InputError as exc:
        query, context["error"] = AuditQuery(), str(exc)
    if is_htmx(request):
        return await render(request, "_audit_rows.html", **context)
    return await render(
        request,
        "audit.html",
        page="audit",
        q=query,
        since=filters.since,
        kinds=[k.value for k in EntryKind],
        actions=[a.value for a in Action],
        categories=sorted(dashboard.policy.lookup),
        **context,
    )


def _query(form: AuditFilters) -> AuditQuery:
    """The store query from the form; unknown values are an :class:`InputError`."""
    if form.kind and form.kind not in {k.value for k in EntryKind}:
        raise InputError(f"unknown kind {form.kind!r}")
    if form.direction and form.direction not in ("input", "output", "stream"):
        raise InputError(f"unknown direction {form.direction!r}")
    return AuditQuery(
        kind=EntryKind(form.kind) if form.kind else None,
        action=form.action or None,
        category=form.category or None,
        request_id=form.request_id.strip() or None,
        direction=form.direction or None,
        text=form.text.strip() or None,
        since=_date(form.since),
        limit=_PAGE,
        offset=form.offset,
    )


def _date(value: str) -> datetime | None:
    """A UTC date or ISO time from the form."""
    if not value.strip():
        return None
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        raise InputError(f"since: not a date: {value!r} (use YYYY-MM-DD)") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@router.get("/audit/verify")
async def verify(request: Request, dashboard: DashboardDep, _: ReviewerDep) -> Response:
    """Walk the whole hash chain; a fragment saying whether it is intact."""
    report = await blocking(dashboard.store.verify)
    return await render(request, "_verify.html", report=report)


@router.get("/audit/entries/{entry_id}")
async def entry(
    request: Request, entry_id: str, dashboard: DashboardDep, _: ReviewerDep
) -> Response:
    """One entry with its stored (redacted) payload."""
    found = await blocking(dashboard.store.get_entry, entry_id)
    payload = json.dumps(found.payload, indent=2, ensure_ascii=False, default=str)
    return await render(request, "entry.html", page="audit", entry=found, payload=payload)


@router.get("/charts")
async def charts(
    request: Request,
    dashboard: DashboardDep,
    _: ReviewerDep,
    window: Annotated[str, Query(pattern="^(24h|7d|30d)$")] = "24h",
) -> Response:
    """The chart page: decisions by action and category, refusal rate, reports, latency."""
    return await render(
        request,
        "charts.html",
        page="charts",
        window=window,
        windows=list(WINDOWS),
        charts=list(CHARTS.items()),
        cache_s=dashboard.settings.chart_cache_s,
    )


@router.get("/charts/{name}.svg")
async def chart(
    name: str,
    dashboard: DashboardDep,
    _: ReviewerDep,
    window: Annotated[str, Query(pattern="^(24h|7d|30d)$")] = "24h",
) -> Response:
    """One chart as SVG (drawn on a worker thread, reused for ``chart_cache_s``)."""
    if name not in CHARTS:
        raise HTTPException(404, f"no chart {name!r}")
    svg = await blocking(dashboard.charts.svg, name, window)
    headers = {
        "Cache-Control": f"private, max-age={int(dashboard.settings.chart_cache_s)}",
        # matplotlib's SVG styles itself inline; nothing in it may load or run anything.
        "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'",
    }
    return Response(svg, media_type="image/svg+xml", headers=headers)
