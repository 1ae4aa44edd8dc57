"""How a decision becomes behaviour: refusal text, clarifying question, safety framing.

- ``refuse``: the gateway answers itself with the decision's explanation and safer
  alternative; the upstream is never called.
- ``ask_context``: the gateway answers itself with the clarifying question (the
  decision's explanation ends with it).
- ``caution``: the upstream is called with a safety system instruction first: educational
  framing, plus the policy's guidance for the category (crisis resources for self-harm).
- ``allow``: the conversation goes upstream unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass

from bastion.core.types import Action, Message, Role
from bastion.core.verdict import Decision

__all__ = ["Plan", "caution_instruction", "plan_for", "refusal_text"]

_FRAMING = (
    "Safety instruction from the bastion gateway: this request touches on {topic}. Answer "
    "helpfully but with safety framing: keep to educational, general information, leave out "
    "operational detail that would make serious harm easier, and mention safer options."
)


@dataclass(frozen=True, slots=True)
class Plan:
    """What to do with a user turn.

    Attributes:
        answer: the gateway's own reply (refusal or question); None calls the upstream.
        messages: the conversation to send upstream (with any safety instruction).
        finish_reason: OpenAI ``finish_reason`` of the gateway's own reply.
    """

    answer: str | None
    messages: tuple[Message, ...]
    finish_reason: str = "stop"


def refusal_text(decision: Decision) -> str:
    """The explanation, then the safer alternative when the policy gives one."""
    if decision.alternative:
        return f"{decision.explanation} {decision.alternative}"
    return decision.explanation


def caution_instruction(decision: Decision) -> str:
    """The system instruction added to a ``caution`` turn."""
    topic = (decision.category or "a sensitive topic").replace("_", " ")
    parts = [_FRAMING.format(topic=topic), *decision.guidance]
    if decision.limit.value == "soft" and decision.alternative and decision.guidance:
        parts.append(f"Offer this if it fits: {decision.alternative}")
    return " ".join(parts)


def plan_for(decision: Decision, messages: tuple[Message, ...]) -> Plan:
    """Turn an input decision into what the gateway does next."""
    if decision.action is Action.REFUSE:
        return Plan(refusal_text(decision), messages, "content_filter")
    if decision.action is Action.ASK_CONTEXT:
        return Plan(decision.explanation, messages)
    if decision.action is Action.CAUTION:
        return Plan(None, _with_instruction(messages, caution_instruction(decision)))
    return Plan(None, messages)


def _with_instruction(messages: tuple[Message, ...], instruction: str) -> tuple[Message, ...]:
    """Put the instruction in the first system message (some chat templates take one)."""
    if messages and messages[0].role is Role.SYSTEM:
        first = Message(Role.SYSTEM, f"{instruction}\n\n{messages[0].content}")
        return (first, *messages[1:])
    return (Message(Role.SYSTEM, instruction), *messages)
