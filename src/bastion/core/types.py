"""The closed vocabularies and the conversation types every layer shares."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from bastion.core.errors import InputError

__all__ = ["Action", "Intent", "Limit", "Message", "Role", "as_messages"]


class Action(StrEnum):
    """What the assistant should do with a turn.

    ``allow``: answer normally. ``caution``: answer, with safety framing. ``ask_context``:
    ask what the user needs it for before answering. ``refuse``: decline, with a short
    explanation and a safer alternative. Sending a turn to human review is a separate flag
    on the decision, not an action.
    """

    ALLOW = "allow"
    CAUTION = "caution"
    ASK_CONTEXT = "ask_context"
    REFUSE = "refuse"

    @property
    def severity(self) -> int:
        """Order of strictness: allow < caution < ask_context < refuse."""
        return _SEVERITY[self]


_SEVERITY = {Action.ALLOW: 0, Action.CAUTION: 1, Action.ASK_CONTEXT: 2, Action.REFUSE: 3}


class Limit(StrEnum):
    """Which tier of the policy a category belongs to.

    ``hard``: refused in every context. ``soft``: the decision moves with the deployment
    context. ``encouraged``: behaviour the assistant should show (crisis resources, balanced
    views). ``none``: nothing of the policy applies.
    """

    HARD = "hard"
    SOFT = "soft"
    ENCOURAGED = "encouraged"
    NONE = "none"


class Intent(StrEnum):
    """What a turn wants done with its topic (the policy's second axis, beside category).

    ``facilitate``: operational help to cause the harm. ``depict``: fiction or art that
    shows it. ``discuss``: education, news, history, analysis. ``seek_help``: a person at
    risk, or a victim, asking for support. ``none``: the topic is only mentioned.
    """

    FACILITATE = "facilitate"
    DEPICT = "depict"
    DISCUSS = "discuss"
    SEEK_HELP = "seek_help"
    NONE = "none"


class Role(StrEnum):
    """Author of a chat message (OpenAI-style roles)."""

    SYSTEM = "system"
    DEVELOPER = "developer"
    USER = "user"
    ASSISTANT = "assistant"
    TOOL = "tool"


@dataclass(frozen=True, slots=True)
class Message:
    """One chat message."""

    role: Role
    content: str


def as_messages(value: str | Sequence[Message | Mapping[str, Any]]) -> tuple[Message, ...]:
    """Turn a user string or an OpenAI-style message list into messages.

    Raises:
        InputError: the value is not a string or a list of ``{role, content}`` objects.
    """
    if isinstance(value, str):
        return (Message(Role.USER, value),)
    if not isinstance(value, Sequence):
        raise InputError(f"expected a string or a list of messages, got {type(value).__name__}")
    return tuple(_one_message(item, index) for index, item in enumerate(value))


def _one_message(item: object, index: int) -> Message:
    if isinstance(item, Message):
        return item
    if not isinstance(item, Mapping):
        raise InputError(f"message {index} is {type(item).__name__}, not an object")
    role, content = item.get("role"), item.get("content")
    try:
        parsed_role = Role(str(role)) if isinstance(role, str) else Role(role or "")
    except ValueError:
        raise InputError(f"message {index} has unknown role {role!r}") from None
    return Message(parsed_role, _content_text(content, index))


def _content_text(content: object, index: int) -> str:
    """Accept a string, None, or OpenAI content parts (``[{type: text, text: ...}]``)."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, Sequence):
        texts = [part.get("text") for part in content if isinstance(part, Mapping)]
        if all(isinstance(text, str) for text in texts) and len(texts) == len(content):
            return "\n".join(t for t in texts if isinstance(t, str))
    raise InputError(f"message {index} content must be a string or a list of text parts")
