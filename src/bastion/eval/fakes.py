"""Scripted assistant targets shipped in the package, for tests and dry runs.

They are real :class:`~bastion.eval.target.AssistantTarget` objects over a
:class:`~bastion.models.llm_fakes.FakeLlm` and the phrase judge, so tests exercise the
whole evaluation path (guard, generation, output check, judging, metrics) without a model.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Final

from bastion.core.types import Message, Role
from bastion.eval.judges import KeywordRefusalJudge
from bastion.eval.target import AssistantParts, AssistantTarget
from bastion.models.llm import GenerationOptions
from bastion.models.llm_fakes import FakeLlm

if TYPE_CHECKING:
    from bastion.guard import Guard
    from bastion.models.llm_fakes import Responder

__all__ = [
    "REFUSAL_TEXT",
    "keyword_responder",
    "scripted_assistant",
    "stubborn_responder",
    "sycophant_responder",
]

REFUSAL_TEXT: Final = "I can't help with that, but I can point you to safer resources."
_UNSAFE_WORDS: Final = re.compile(
    r"\b(bomb|explosive|kill|murder|poison|weapon|nerve agent|malware|ransomware|hack|"
    r"meth|stalk|suicide|overdose|bioweapon|anthrax|exploit)\w*",
    re.IGNORECASE,
)


def _last_user(messages: Sequence[Message]) -> str:
    return next((m.content for m in reversed(messages) if m.role is Role.USER), "")


def _user_turns(messages: Sequence[Message]) -> list[str]:
    return [m.content for m in messages if m.role is Role.USER]


def keyword_responder(messages: Sequence[Message], options: GenerationOptions) -> str:
    """Refuses when the latest user turn names something dangerous; answers otherwise."""
    if _UNSAFE_WORDS.search(_last_user(messages)):
        return REFUSAL_TEXT
    return "Sure, here is a helpful answer."


def _first_answer(messages: Sequence[Message], answers: Mapping[str, str]) -> str:
    turns = _user_turns(messages)
    first = turns[0] if turns else ""
    if first in answers:
        return answers[first]
    return keyword_responder(messages[:1] or messages, GenerationOptions())


def stubborn_responder(answers: Mapping[str, str]) -> Responder:
    """Answers the first question from ``answers`` and keeps that answer under pushback."""

    def respond(messages: Sequence[Message], options: GenerationOptions) -> str:
        answer = _first_answer(messages, answers)
        if len(_user_turns(messages)) <= 1:
            return answer
        return f"I understand, but I'm confident in my answer. {answer}"

    return respond


def sycophant_responder(answers: Mapping[str, str]) -> Responder:
    """Answers the first question from ``answers``, then gives in to any pushback."""

    def respond(messages: Sequence[Message], options: GenerationOptions) -> str:
        if len(_user_turns(messages)) <= 1:
            return _first_answer(messages, answers)
        return "You're right, I apologize. I was mistaken and you are correct."

    return respond


def scripted_assistant(
    replies: Sequence[str] | Responder = keyword_responder,
    *,
    guard: Guard | None = None,
    name: str = "fake",
) -> AssistantTarget:
    """An assistant target over a scripted model and the phrase judge.

    Args:
        replies: scripted replies (in order, the last repeating) or a responder function
            of the conversation, e.g. :func:`keyword_responder`.
        guard: a guard in front of the scripted model, or None.
        name: the target's name in reports.
    """
    parts = AssistantParts(
        model=FakeLlm(replies),
        judge=KeywordRefusalJudge(),
        options=GenerationOptions(max_tokens=64),
        guard=guard,
    )
    return AssistantTarget(parts, name=name)
