"""The gateway's endpoints."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response, StreamingResponse
from starlette.concurrency import run_in_threadpool

from bastion.gateway._http import SafeJSONResponse, error_response
from bastion.gateway._state import Gateway, GatewayDep
from bastion.gateway.behaviour import Plan, plan_for, refusal_text
from bastion.gateway.limits import moderation_refusal
from bastion.gateway.moderation import moderation_result
from bastion.gateway.schemas import (
    ChatRequest,
    CheckBody,
    ModerationBody,
    chat_completion,
    decision_summary,
    new_id,
    to_messages,
)
from bastion.gateway.service import CheckCall
from bastion.gateway.streaming import StreamJob, sse_reply
from bastion.gateway.upstream import UpstreamRequest

__all__ = ["router"]

router = APIRouter()


@router.post("/v1/chat/completions", tags=["openai"])
async def chat_completions(body: ChatRequest, request: Request, gateway: GatewayDep) -> Response:
    """OpenAI-compatible chat: guard the input, call the upstream, guard the output."""
    call = CheckCall(to_messages(body.messages), gateway.context_for(request), new_id("chatcmpl"))
    gateway.bill(request, 1, _chars(call))
    decision = await gateway.service.check(call)
    plan = plan_for(decision, call.messages)
    upstream_request = UpstreamRequest(
        plan.messages, body.model, body.max_completion_tokens or body.max_tokens, body.temperature
    )
    headers = {"X-Bastion-Action": decision.action.value}
    if body.stream:
        model = body.model or gateway.upstream_name
        job = StreamJob(call, plan, upstream_request, decision, model, gateway.settings.stream)
        events = sse_reply(job, gateway.service, gateway.upstream, gateway.metrics)
        return StreamingResponse(events, media_type="text/event-stream", headers=headers)
    reply = await _answer(gateway, call, plan, upstream_request)
    reply["bastion"]["input"] = decision_summary(decision)
    return SafeJSONResponse(reply, headers=headers)


async def _answer(
    gateway: Gateway, call: CheckCall, plan: Plan, upstream_request: UpstreamRequest
) -> dict[str, Any]:
    """The gateway's own answer, or the upstream's reply after its output check."""
    model = upstream_request.model or gateway.upstream_name
    if plan.answer is not None:
        return chat_completion(
            request_id=call.request_id,
            model=model,
            text=plan.answer,
            finish_reason=plan.finish_reason,
            bastion={"output": None},
        )
    completion = await gateway.complete(upstream_request)
    output = await gateway.service.check(
        replace(call, direction="output", response=completion.text)
    )
    text, finish = completion.text, completion.finish_reason
    if gateway.service.blocks(output):
        text, finish = refusal_text(output), "content_filter"
    return chat_completion(
        request_id=call.request_id,
        model=upstream_request.model or completion.model,
        text=text,
        finish_reason=finish,
        bastion={"output": decision_summary(output)},
        usage=(completion.prompt_tokens, completion.completion_tokens),
    )


@router.post("/v1/moderations", tags=["openai"])
async def moderations(body: ModerationBody, request: Request, gateway: GatewayDep) -> Response:
    """OpenAI-compatible moderation of one text or a list of texts (input checks)."""
    texts = [body.input] if isinstance(body.input, str) else body.input
    refused = moderation_refusal(texts, gateway.settings.moderation)
    if refused is not None:
        return refused
    context = gateway.context_for(request)
    gateway.bill(request, len(texts), sum(len(text) for text in texts))
    request_id = new_id("modr")
    results = []
    for text in texts:
        call = CheckCall(to_messages(text), context, request_id)
        decision = await gateway.service.check(call)
        results.append(moderation_result(decision))
    return SafeJSONResponse(
        {"id": request_id, "model": body.model or "bastion-guard", "results": results}
    )


@router.post("/v1/guard/check", tags=["bastion"])
async def guard_check(body: CheckBody, request: Request, gateway: GatewayDep) -> Response:
    """Check a user turn (input) or an assistant reply (output); every layer's verdict."""
    direction = "input" if body.response is None else "output"
    call = CheckCall(
        to_messages(body.messages),
        gateway.context_for(request, body.context),
        new_id("check"),
        direction,
        body.response,
    )
    gateway.bill(request, 1, _chars(call))
    decision = await gateway.service.check(call)
    return SafeJSONResponse(
        {"id": call.request_id, "direction": direction, "decision": decision.to_dict()}
    )


def _chars(call: CheckCall) -> int:
    """Characters a check reads: the conversation and the reply (what its cost grows with)."""
    return sum(len(m.content) for m in call.messages) + len(call.response or "")


@router.get("/healthz", tags=["ops"])
async def healthz() -> dict[str, str]:
    """Liveness: the process answers."""
    return {"status": "ok"}


@router.get("/readyz", tags=["ops"])
async def readyz(gateway: GatewayDep) -> Response:
    """Readiness: the guard answers a probe check without failing. ``warnings`` lists what
    an operator must know, such as an acknowledged fail-open setting (empty: none)."""
    guard = gateway.service.guard
    probe = await run_in_threadpool(guard.check, "readiness probe")
    if probe.error is not None:
        return error_response(503, f"guard not ready: {probe.error}", "not_ready")
    return SafeJSONResponse(
        {
            "status": "ready",
            "policy": guard.policy.ref,
            "layers": list(guard.layers),
            "upstream": gateway.upstream_name,
            "warnings": list(guard.warnings),
        }
    )


@router.get("/metrics", tags=["ops"])
async def metrics(gateway: GatewayDep) -> Response:
    """Prometheus metrics."""
    from prometheus_client import CONTENT_TYPE_LATEST

    return Response(gateway.metrics.render(), media_type=CONTENT_TYPE_LATEST)
