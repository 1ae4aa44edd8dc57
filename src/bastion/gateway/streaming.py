"""Streamed replies as server-sent events, checked on a sliding window as they flow.

The upstream's deltas are held back in a :class:`WindowGate`. Every ``check_every``
characters, the window of the last ``window`` characters ending there is checked as an
output; only when it passes is the text up to its end released to the client. So nothing
leaves the gateway unchecked, the client lags the upstream by less than ``check_every``
characters, and a harmful continuation is cut with at most one window of it released
(the part earlier windows could not yet recognise). A cut sends a refusal chunk with
``finish_reason: content_filter``, stops the upstream and records the decision.

An upstream stream is bounded in time (``stream.max_seconds``) and size
(``stream.max_chars``); past either, or when the upstream fails mid-stream, the stream ends
with an ``upstream_error`` event, and the text already released is recorded with its last
window's decision (what the client saw is never missing from the record).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from typing import Any

import anyio

from bastion.core.verdict import Decision
from bastion.gateway._http import dumps, error_body
from bastion.gateway.behaviour import Plan, refusal_text
from bastion.gateway.metrics import GatewayMetrics
from bastion.gateway.schemas import chunk, decision_summary
from bastion.gateway.service import CheckCall, GuardService
from bastion.gateway.settings import StreamSettings
from bastion.gateway.upstream import Upstream, UpstreamError, UpstreamRequest

__all__ = ["StreamJob", "WindowGate", "sse_reply"]


class WindowGate:
    """Sans-I/O sliding-window bookkeeping: what to check next and what may be released.

    Args:
        check_every: characters between checks (N).
        window: characters each check reads, ending at the check point (W >= N).
    """

    def __init__(self, *, check_every: int, window: int) -> None:
        self._every, self._window = check_every, window
        self._pieces: list[str] = []
        self._text = ""
        self._size = 0
        self.released = 0

    @property
    def text(self) -> str:
        """Everything received so far (joined only when asked, i.e. at check points)."""
        if self._pieces:
            self._text += "".join(self._pieces)
            self._pieces.clear()
        return self._text

    def feed(self, delta: str) -> None:
        """Take a delta from the upstream."""
        self._pieces.append(delta)
        self._size += len(delta)

    def due(self, *, final: bool = False) -> int | None:
        """End of the next window to check, or None; ``final`` checks the remainder."""
        if self._size - self.released >= self._every:
            return self.released + self._every
        if final and self._size > self.released:
            return self._size
        return None

    def window_at(self, end: int) -> str:
        """The window of text ending at ``end``."""
        return self.text[max(0, end - self._window) : end]

    def release_to(self, end: int) -> str:
        """Text from the last release up to ``end`` (it passed its check)."""
        piece = self.text[self.released : end]
        self.released = end
        return piece


@dataclass(frozen=True, slots=True)
class StreamJob:
    """Everything one streamed reply needs."""

    call: CheckCall
    plan: Plan
    request: UpstreamRequest
    input_decision: Decision
    model: str
    stream: StreamSettings


def _event(data: dict[str, Any]) -> str:
    return f"data: {dumps(data).decode('utf-8')}\n\n"


def _content(job: StreamJob, text: str, finish: str | None = None) -> str:
    delta = {"content": text} if text else {}
    return _event(
        chunk(request_id=job.call.request_id, model=job.model, delta=delta, finish_reason=finish)
    )


def _finish(job: StreamJob, reason: str, bastion: dict[str, Any]) -> str:
    data = chunk(request_id=job.call.request_id, model=job.model, delta={}, finish_reason=reason)
    data["bastion"] = {"input": decision_summary(job.input_decision), **bastion}
    return _event(data) + "data: [DONE]\n\n"


async def sse_reply(
    job: StreamJob, service: GuardService, upstream: Upstream, metrics: GatewayMetrics
) -> AsyncIterator[str]:
    """The SSE events of one streamed reply, guarded."""
    yield _event(
        chunk(
            request_id=job.call.request_id,
            model=job.model,
            delta={"role": "assistant", "content": ""},
        )
    )
    if job.plan.answer is not None:
        yield _content(job, job.plan.answer)
        yield _finish(job, job.plan.finish_reason, {"output": None})
        return
    gate = WindowGate(check_every=job.stream.check_every, window=job.stream.window)
    source = _bounded(upstream.stream(job.request), job.stream)
    try:
        async for event in _guarded(job, service, gate, source):
            yield event
    except UpstreamError as exc:
        metrics.upstream_errors.labels(exc.reason).inc()
        yield _event(error_body(f"upstream error: {exc}", "upstream_error", exc.reason))
    finally:
        close = getattr(source, "aclose", None)
        if close is not None:
            await close()  # stops the upstream after a cut or a client disconnect


async def _guarded(
    job: StreamJob, service: GuardService, gate: WindowGate, source: AsyncIterator[str]
) -> AsyncIterator[str]:
    finished, last = False, None
    while not finished:
        try:
            delta = await anext(source, None)
        except UpstreamError:
            if last is not None:  # record what the client already got
                released = gate.text[: gate.released]
                await service.record(replace(job.call, direction="output", response=released), last)
            raise
        finished = delta is None
        gate.feed(delta or "")
        while (end := gate.due(final=finished)) is not None:
            window = replace(job.call, direction="stream", response=gate.window_at(end))
            last = await service.check(replace(window, record=False))
            if service.blocks(last):
                yield await _cut(job, service, gate, last)
                return
            yield _content(job, gate.release_to(end))
    summary = None
    if last is not None:  # the whole reply is recorded with its last window's decision
        call = replace(job.call, direction="output", response=gate.text)
        summary = decision_summary(await service.record(call, last))
    yield _finish(job, "stop", {"output": summary, "released_chars": gate.released})


async def _cut(job: StreamJob, service: GuardService, gate: WindowGate, decision: Decision) -> str:
    service.metrics.stream_cuts.inc()
    call = replace(job.call, direction="stream", response=gate.text)
    recorded = await service.record(call, decision)
    separator = "\n\n" if gate.released else ""
    summary = {"output": decision_summary(recorded), "cut": True, "released_chars": gate.released}
    return _content(job, separator + refusal_text(recorded)) + _finish(
        job, "content_filter", summary
    )


async def _bounded(source: AsyncIterator[str], limits: StreamSettings) -> AsyncIterator[str]:
    """``source``'s deltas within ``limits.max_seconds`` and ``limits.max_chars``.

    Raises:
        UpstreamError: past either bound (``source`` is closed first).
    """
    deadline = anyio.current_time() + limits.max_seconds
    size = 0
    try:
        while True:
            with anyio.move_on_after(deadline - anyio.current_time()) as scope:
                delta = await anext(source, None)
            if scope.cancelled_caught:
                message = f"upstream stream not finished within {limits.max_seconds:g} s"
                raise UpstreamError(message, reason="stream_timeout")
            if delta is None:
                return
            size += len(delta)
            if size > limits.max_chars:
                message = f"upstream stream over {limits.max_chars:,} characters"
                raise UpstreamError(message, reason="stream_too_long")
            yield delta
    finally:
        close = getattr(source, "aclose", None)
        if close is not None:
            await close()
