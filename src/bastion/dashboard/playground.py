"""The chat playground: a conversation through the gateway's own HTTP API, in process.

Each message is sent to ``POST /v1/chat/completions`` of the gateway app the dashboard is
mounted in (an httpx client over ASGI: the real routes, middleware, guard, upstream and
recording, no socket), and each turn shows the input decision (action, category,
explanation). The report button sends ``POST /v1/reports``: a wrong refusal as an
``appeal``, a bad answer as a ``report``. Once the gateway requires API keys, the
playground uses a ``client`` key of its own (:class:`~bastion.dashboard.keys.PlaygroundKey`).
"""

from __future__ import annotations

from typing import Annotated, Any

import httpx
from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import RedirectResponse, Response

from bastion.dashboard._state import BASE, Dashboard, DashboardDep, blocking, is_htmx, render
from bastion.dashboard.security import CsrfDep, HolderDep, SessionHolder
from bastion.dashboard.sessions import PlaygroundTurn, Session

__all__ = ["MAX_CHARS", "router"]

router = APIRouter()

MAX_CHARS = 8000
"""Longest message the playground form accepts."""
_KEEP_TURNS = 20
_REPORT_KINDS = {"wrong_refusal": "appeal", "bad_answer": "report"}
_TIMEOUT_S = 300.0


async def _visitor(request: Request, dashboard: Dashboard, holder: SessionHolder) -> Session:
    """The visitor's session, when the playground is open to them."""
    if not await dashboard.playground_for(holder.session):
        if dashboard.settings.playground == "off":
            raise HTTPException(404, "the playground is turned off")
        raise HTTPException(403, "log in to use the playground")
    return holder.ensure()


@router.get("/playground")
async def playground(request: Request, dashboard: DashboardDep, holder: HolderDep) -> Response:
    """The playground page with the session's conversation."""
    session = await _visitor(request, dashboard, holder)
    return await render(
        request,
        "playground.html",
        page="playground",
        turns=list(session.turns),
        contexts=list(dashboard.policy.contexts),
        context=dashboard.default_context,
        upstream=dashboard.upstream,
        max_chars=MAX_CHARS,
    )


@router.post("/playground/send")
async def send(
    request: Request,
    dashboard: DashboardDep,
    holder: HolderDep,
    _: CsrfDep,
    message: Annotated[str, Form(max_length=MAX_CHARS)] = "",
    context: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    """Send the message through the gateway; htmx gets the new turn, others a redirect."""
    session = await _visitor(request, dashboard, holder)
    if not message.strip():
        raise HTTPException(400, "type a message first")
    if context and not dashboard.policy.has_context(context):
        raise HTTPException(400, f"unknown context {context!r}")
    turn = await _chat(dashboard, session, message, context)
    dashboard.sessions.add_turn(session, turn, keep=_KEEP_TURNS)
    if not is_htmx(request):
        return RedirectResponse(f"{BASE}/playground", 303)
    return await render(request, "_sent.html", turn=turn, max_chars=MAX_CHARS, oob=True)


async def _chat(
    dashboard: Dashboard, session: Session, message: str, context: str
) -> PlaygroundTurn:
    messages: list[dict[str, str]] = []
    for turn in session.turns:
        messages += [
            {"role": "user", "content": turn.user},
            {"role": "assistant", "content": turn.reply},
        ]
    messages.append({"role": "user", "content": message})
    headers = await _headers(dashboard)
    if context:
        headers["X-Bastion-Context"] = context
    body = {"messages": messages}
    reply = await _post(dashboard, "/v1/chat/completions", body, headers)
    choice = reply["choices"][0]
    decision = (reply.get("bastion") or {}).get("input") or {}
    output = (reply.get("bastion") or {}).get("output") or {}
    return PlaygroundTurn(
        request_id=str(reply.get("id", "")),
        user=message,
        reply=str(choice["message"].get("content") or ""),
        action=str(decision.get("action", "")),
        category=decision.get("category"),
        explanation=str(decision.get("explanation", "")),
        output_action=output.get("action"),
        refused=choice.get("finish_reason") == "content_filter",
    )


async def _headers(dashboard: Dashboard) -> dict[str, str]:
    secret = await blocking(dashboard.key.bearer, dashboard.store)
    return {"Authorization": f"Bearer {secret}"} if secret else {}


async def _post(
    dashboard: Dashboard, path: str, body: dict[str, Any], headers: dict[str, str]
) -> dict[str, Any]:
    """POST to the gateway app in process; its error message becomes a 502 here."""
    transport = httpx.ASGITransport(app=dashboard.gateway)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://gateway.internal", timeout=_TIMEOUT_S
    ) as client:
        response = await client.post(path, json=body, headers=headers)
    data = response.json() if response.content else {}
    if response.status_code >= 400 or not isinstance(data, dict):
        message = (data.get("error") or {}).get("message") if isinstance(data, dict) else None
        status = 400 if response.status_code in (400, 413) else 502
        raise HTTPException(status, f"the gateway answered {response.status_code}: {message}")
    return data


@router.post("/playground/report")
async def report(
    request: Request,
    dashboard: DashboardDep,
    holder: HolderDep,
    _: CsrfDep,
    request_id: Annotated[str, Form(max_length=200)] = "",
    kind: Annotated[str, Form(max_length=40)] = "",
    reason: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    """Report one of this session's turns to the review queue (through ``/v1/reports``)."""
    session = await _visitor(request, dashboard, holder)
    if kind not in _REPORT_KINDS:
        raise HTTPException(400, "kind must be wrong_refusal or bad_answer")
    if not any(t.request_id == request_id for t in session.turns):
        raise HTTPException(404, "no such turn in this conversation")
    body = {
        "request_id": request_id,
        "kind": _REPORT_KINDS[kind],
        "reason": reason.strip() or kind.replace("_", " "),
    }
    await _post(dashboard, "/v1/reports", body, await _headers(dashboard))
    turn = dashboard.sessions.mark_reported(session, request_id, kind)
    if not is_htmx(request) or turn is None:
        return RedirectResponse(f"{BASE}/playground", 303)
    return await render(request, "_turn.html", turn=turn)


@router.post("/playground/reset")
async def reset(
    request: Request, dashboard: DashboardDep, holder: HolderDep, _: CsrfDep
) -> Response:
    """Start a new conversation."""
    session = await _visitor(request, dashboard, holder)
    dashboard.sessions.clear_turns(session)
    return RedirectResponse(f"{BASE}/playground", 303)
