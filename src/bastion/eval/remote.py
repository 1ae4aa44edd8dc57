"""Targets behind HTTP: any OpenAI-compatible endpoint, and a bastion gateway.

- ``openai:URL`` is an :class:`~bastion.eval.target.AssistantTarget` over
  :class:`~bastion.models.openai_chat.OpenAIChatBackend`: the endpoint is the model, and
  the local guard may sit in front (``openai:URL+guard``), exactly like an embedded model.
- ``gateway:URL`` is a bastion gateway, which guards inside itself: :class:`GatewayTarget`
  reads the gateway's own decisions from the ``bastion`` field of each reply (input and
  output decision) and judges the reply text only where the gateway let it through.
  A server that sends no ``bastion`` field is judged from its reply alone.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from bastion.core.errors import BastionError
from bastion.core.types import Action
from bastion.eval.target import Answer, Conversation, judged

if TYPE_CHECKING:
    from bastion.eval.judges import RefusalJudge
    from bastion.models.llm import GenerationOptions
    from bastion.models.openai_chat import ChatReply, OpenAIChatBackend

__all__ = ["CONTEXT_HEADER", "GatewayTarget"]

CONTEXT_HEADER = "X-Bastion-Context"
"""The header a gateway reads the deployment context from."""

_ACTIONS = {a.value: a for a in Action}


class GatewayTarget:
    """A bastion gateway (or any OpenAI-compatible server) answering over HTTP.

    Args:
        backend: the client of the gateway's ``/v1`` root.
        judge: reads replies the gateway let through (full / partial refusal or not).
        options: generation options sent with each request.
        name: the target's name in reports.
    """

    def __init__(
        self,
        backend: OpenAIChatBackend,
        judge: RefusalJudge,
        options: GenerationOptions,
        *,
        name: str,
    ) -> None:
        self._backend, self._judge, self._options, self._name = backend, judge, options, name

    @property
    def name(self) -> str:
        """The target's name."""
        return self._name

    def answer(self, conversation: Conversation) -> Answer:
        """Ask the gateway; its input decision, output decision and reply make the answer."""
        headers = {CONTEXT_HEADER: conversation.context} if conversation.context else None
        try:
            reply = self._backend.chat(conversation.messages, self._options, headers=headers)
        except BastionError as exc:
            return Answer(Action.REFUSE, error=f"{type(exc).__name__}: {exc}"[:300])
        return self._read(conversation, reply)

    def _read(self, conversation: Conversation, reply: ChatReply) -> Answer:
        extension = reply.bastion or {}
        decided = _decision(extension.get("input"))
        output = _decision(extension.get("output"))
        if decided is not None and decided.action is Action.REFUSE:
            return _with_reply(decided, reply.text, "refusal")
        if decided is not None and decided.action is Action.ASK_CONTEXT:
            return _with_reply(decided, reply.text, None)
        if reply.finish_reason == "content_filter" or (
            output is not None and output.action is Action.REFUSE
        ):
            base = output or decided or Answer(Action.REFUSE)
            return _with_reply(base, reply.text, "refusal", action=Action.REFUSE)
        answer = judged(self._judge, conversation, reply.text, None)
        if decided is None:
            return answer
        action = answer.action if answer.action is not Action.ALLOW else decided.action
        return _with_reply(decided, reply.text, answer.reply_kind, action=action)


def _with_reply(
    base: Answer, text: str, kind: str | None, *, action: Action | None = None
) -> Answer:
    return Answer(
        action or base.action,
        base.score,
        base.category,
        text,
        kind,
        base.error,
        base.guidance,
        base.alternative,
    )


def _decision(data: Any) -> Answer | None:
    """A decision summary of the gateway as an answer (None when absent or unreadable)."""
    if not isinstance(data, Mapping) or data.get("action") not in _ACTIONS:
        return None
    score = data.get("score")
    guidance = data.get("guidance")
    return Answer(
        _ACTIONS[str(data["action"])],
        float(score) if isinstance(score, int | float) else None,
        _text(data.get("category")),
        error=_text(data.get("error")),
        guidance=tuple(str(g) for g in guidance) if isinstance(guidance, list) else (),
        alternative=_text(data.get("alternative")),
    )


def _text(value: Any) -> str | None:
    return str(value)[:1000] if isinstance(value, str) and value else None
