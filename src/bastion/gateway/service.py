"""The gateway's guard service: checks off the event loop, fails closed, counts, records.

A failure of the check or of its record is answered with the guard's refusal and a generic
error id; the exception itself goes only to the log, under that id (never to a client).
"""

from __future__ import annotations

import logging
import secrets
import time
from dataclasses import dataclass

from starlette.concurrency import run_in_threadpool

from bastion.core.errors import InputError
from bastion.core.types import Action, Limit, Message
from bastion.core.verdict import Decision
from bastion.gateway.metrics import GatewayMetrics
from bastion.gateway.recorder import DecisionEvent, DecisionRecorder
from bastion.guard import Guard

__all__ = ["CheckCall", "GuardService", "fail_closed", "new_error_id"]

_log = logging.getLogger("bastion.gateway")


@dataclass(frozen=True, slots=True)
class CheckCall:
    """One check to run.

    Attributes:
        messages: the conversation.
        context: the deployment context (already validated).
        request_id: the HTTP request's id, for records.
        direction: ``input`` | ``output`` | ``stream``.
        response: the reply to judge (output and stream checks).
        record: write the decision down (passing stream windows are only counted).
    """

    messages: tuple[Message, ...]
    context: str
    request_id: str
    direction: str = "input"
    response: str | None = None
    record: bool = True


class GuardService:
    """Runs guard checks on worker threads, then counts and records each decision.

    Args:
        guard: the guard.
        metrics: where decisions are counted.
        recorder: where decisions are written down, or None.
        block_output_at: an output decision at or above this action is enforced.
    """

    def __init__(
        self,
        guard: Guard,
        metrics: GatewayMetrics,
        recorder: DecisionRecorder | None,
        *,
        block_output_at: Action = Action.REFUSE,
    ) -> None:
        self._guard = guard
        self._metrics = metrics
        self._recorder = recorder
        self._block_at = block_output_at

    @property
    def guard(self) -> Guard:
        """The guard."""
        return self._guard

    @property
    def metrics(self) -> GatewayMetrics:
        """Where decisions are counted."""
        return self._metrics

    def context(self, requested: str | None) -> str:
        """The context to use, validated against the policy.

        Raises:
            InputError: the policy has no such context.
        """
        chosen = requested or self._guard.config.context
        if not self._guard.policy.has_context(chosen):
            known = ", ".join(self._guard.policy.contexts)
            raise InputError(f"unknown context {chosen!r}; the policy has: {known}")
        return chosen

    def blocks(self, decision: Decision) -> bool:
        """Whether an output decision replaces (or cuts) the reply."""
        return decision.action.severity >= self._block_at.severity

    async def check(self, call: CheckCall) -> Decision:
        """Decide, count and record; any failure becomes a recorded ``refuse``."""
        return await run_in_threadpool(self.check_sync, call)

    def check_sync(self, call: CheckCall) -> Decision:
        """The blocking form of :meth:`check` (runs on a worker thread)."""
        start = time.perf_counter()
        decision = self._decide(call)
        self._metrics.observe(call.direction, decision, time.perf_counter() - start)
        return self.record_sync(call, decision) if call.record else decision

    async def record(self, call: CheckCall, decision: Decision) -> Decision:
        """Record a decision made earlier (a streamed reply's cut or last window)."""
        return await run_in_threadpool(self.record_sync, call, decision)

    def record_sync(self, call: CheckCall, decision: Decision) -> Decision:
        """Write the decision down; a failure to record returns a ``refuse`` instead."""
        if self._recorder is None:
            return decision
        if call.direction == "input":
            enforced = decision.action is not Action.ALLOW
        else:
            enforced = self.blocks(decision)
        event = DecisionEvent(
            call.direction, decision, call.messages, call.response, call.request_id, enforced
        )
        try:
            self._recorder.record(event)
        except Exception:  # noqa: BLE001 - an unrecorded decision must not pass
            error_id = new_error_id()
            _log.exception("cannot record a decision (error id %s)", error_id)
            return fail_closed(decision.context, decision.policy, error_id, what="record")
        return decision

    def _decide(self, call: CheckCall) -> Decision:
        try:
            if call.response is None:
                return self._guard.check(call.messages, context=call.context)
            return self._guard.check_response(call.messages, call.response, context=call.context)
        except InputError:
            raise
        except Exception:  # noqa: BLE001 - the gateway fails closed, visibly
            error_id = new_error_id()
            _log.exception("guard check failed (error id %s)", error_id)
            return fail_closed(call.context, self._guard.policy.ref, error_id, what="check")


def new_error_id() -> str:
    """A fresh id that ties a client's generic error to the log line with the details."""
    return f"err-{secrets.token_hex(6)}"


def fail_closed(context: str, policy: str, error_id: str, *, what: str) -> Decision:
    """A ``refuse`` decision that says a safety check (or its record) failed; its error
    names only ``error_id`` (the caller logs the exception under it)."""
    return Decision(
        action=Action.REFUSE,
        review=True,
        score=1.0,
        category=None,
        limit=Limit.NONE,
        techniques=(),
        layer="gateway",
        explanation="A safety check could not complete, so this request was refused to stay safe.",
        alternative="Please try again in a moment.",
        context=context,
        policy=policy,
        error=f"{what} failed (error id {error_id}; the details are in the gateway log)",
    )
