"""What an evaluation talks to: the :class:`Target` protocol and the built-in targets.

A target answers a conversation with an :class:`Answer`. Two kinds ship:

- :class:`GuardTarget`, the guard alone: the decision is the answer.
- :class:`AssistantTarget`, a chat model behind an optional guard, as a deployment would
  run it: a refused input is answered with the refusal, an allowed one by the model, and
  the reply (checked by the guard's output check when there is a guard) is read by a
  :class:`~bastion.eval.judges.RefusalJudge` to tell refusals from answers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from bastion.core.errors import BastionError
from bastion.core.types import Action, Message, Role

if TYPE_CHECKING:
    from bastion.core.verdict import Decision
    from bastion.eval.judges import RefusalJudge
    from bastion.guard import Guard
    from bastion.models.llm import GenerationOptions, LlmBackend

__all__ = [
    "Answer",
    "AssistantParts",
    "AssistantTarget",
    "Conversation",
    "GuardTarget",
    "Target",
    "conversation_of",
    "judged",
]

_CLARIFY = "Could you tell me a bit more about what you need this for?"


@dataclass(frozen=True, slots=True)
class Conversation:
    """What a target is asked: the messages (last one a user turn) and the context."""

    messages: tuple[Message, ...]
    context: str | None = None

    @classmethod
    def of(cls, text: str, *, context: str | None = None) -> Conversation:
        """A one-turn conversation."""
        return cls((Message(Role.USER, text),), context)

    @property
    def last_user(self) -> str:
        """The latest user message ('' when there is none)."""
        return next((m.content for m in reversed(self.messages) if m.role is Role.USER), "")


@dataclass(frozen=True, slots=True)
class Answer:
    """How a target answered.

    Attributes:
        action: the effective action. For the guard, its decision. For an assistant:
            ``refuse`` when the guard refused or the reply is a full refusal,
            ``ask_context`` for a partial refusal or a clarifying question, otherwise
            the guard's ``caution`` or ``allow``.
        score: probability unsafe from the guard, when there is one.
        category: the guard's deciding category, when there is one.
        reply: the assistant's reply text (None for the guard alone).
        reply_kind: ``refusal`` | ``partial`` | ``compliance`` as the judge read the reply.
        error: set when the target failed; the answer then fails closed (``refuse``).
        guidance: the guard's encouraged-behaviour guidance for the assistant (crisis
            resources, balanced views...), when a guard decided.
        alternative: the safer alternative the guard's decision offers, if any.
    """

    action: Action
    score: float | None = None
    category: str | None = None
    reply: str | None = None
    reply_kind: str | None = None
    error: str | None = None
    guidance: tuple[str, ...] = ()
    alternative: str | None = None

    @property
    def allowed(self) -> bool:
        """The request was answered without any restriction (``allow``)."""
        return self.action is Action.ALLOW

    @property
    def answered(self) -> bool:
        """The request was answered (``allow`` or ``caution``)."""
        return self.action in (Action.ALLOW, Action.CAUTION)


@runtime_checkable
class Target(Protocol):
    """Something that answers conversations: the guard, or an assistant."""

    @property
    def name(self) -> str:
        """A short name for reports, e.g. ``guard`` or ``embedded:smollm2+guard``."""
        ...

    def answer(self, conversation: Conversation) -> Answer:
        """Answer ``conversation``. Never raises for odd input: failures are answers."""
        ...


class GuardTarget:
    """The guard alone: its decision is the answer."""

    def __init__(self, guard: Guard, *, name: str = "guard") -> None:
        self._guard = guard
        self._name = name

    @property
    def name(self) -> str:
        """The target's name."""
        return self._name

    @property
    def guard(self) -> Guard:
        """The guard under test."""
        return self._guard

    def answer(self, conversation: Conversation) -> Answer:
        """The guard's decision on the conversation's latest turn."""
        try:
            decision = self._guard.check(conversation.messages, context=conversation.context)
        except BastionError as exc:
            return Answer(Action.REFUSE, error=f"{type(exc).__name__}: {exc}"[:300])
        return _from_decision(decision)


def _from_decision(decision: Decision) -> Answer:
    return Answer(
        decision.action,
        decision.score,
        decision.category,
        error=decision.error,
        guidance=decision.guidance,
        alternative=decision.alternative,
    )


@dataclass(frozen=True, slots=True)
class AssistantParts:
    """What an :class:`AssistantTarget` is made of (its dependencies)."""

    model: LlmBackend
    judge: RefusalJudge
    options: GenerationOptions
    guard: Guard | None = None


class AssistantTarget:
    """A chat model behind an optional guard, judged by a refusal judge."""

    def __init__(self, parts: AssistantParts, *, name: str) -> None:
        self._parts = parts
        self._name = name

    @property
    def name(self) -> str:
        """The target's name."""
        return self._name

    @property
    def guard(self) -> Guard | None:
        """The guard in front of the model, if any."""
        return self._parts.guard

    def answer(self, conversation: Conversation) -> Answer:
        """Guard the input, generate, guard the output, and judge the reply."""
        try:
            return self._answer(conversation)
        except BastionError as exc:
            return Answer(Action.REFUSE, error=f"{type(exc).__name__}: {exc}"[:300])

    def _answer(self, conversation: Conversation) -> Answer:
        parts, decision = self._parts, None
        if parts.guard is not None:
            decision = parts.guard.check(conversation.messages, context=conversation.context)
            if decision.action is Action.REFUSE:
                text = " ".join(filter(None, (decision.explanation, decision.alternative)))
                return replace(_from_decision(decision), reply=text, reply_kind="refusal")
            if decision.action is Action.ASK_CONTEXT:
                return replace(_from_decision(decision), reply=_CLARIFY)
        reply = parts.model.complete(conversation.messages, parts.options)
        if parts.guard is not None:
            checked = parts.guard.check_response(
                conversation.messages, reply, context=conversation.context
            )
            if checked.action is Action.REFUSE:
                return Answer(Action.REFUSE, checked.score, checked.category, reply, "refusal")
        return judged(parts.judge, conversation, reply, decision)


def judged(
    judge: RefusalJudge, conversation: Conversation, reply: str, decision: Decision | None
) -> Answer:
    """The answer an assistant gave with ``reply`` after the input ``decision`` (None: no
    guard): ``refuse`` / ``ask_context`` when the judge reads a full / partial refusal,
    otherwise the guard's action (``allow`` without a guard)."""
    kind = judge.kind(conversation.last_user, reply)
    if decision is None:
        return Answer(_REPLY_ACTION.get(kind, Action.ALLOW), reply=reply, reply_kind=kind)
    base = _from_decision(decision)
    return replace(base, action=_REPLY_ACTION.get(kind, base.action), reply=reply, reply_kind=kind)


_REPLY_ACTION = {"refusal": Action.REFUSE, "partial": Action.ASK_CONTEXT}


def conversation_of(turns: Sequence[tuple[str, str]], context: str | None = None) -> Conversation:
    """A conversation from ``(role, content)`` pairs."""
    return Conversation(tuple(Message(Role(role), text) for role, text in turns), context)
