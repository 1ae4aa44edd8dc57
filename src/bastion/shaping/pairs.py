"""What preference-data export works with: pairs, skips, and the PairSource protocol.

A :class:`PairSource` yields :class:`PreferencePair` items (and :class:`Skipped` notes for
input it could not turn into one). The exporters in :mod:`bastion.shaping.export` write
them as TRL-ready JSON Lines:

- DPO (conversational preference format)::

    {"prompt": [{"role": "user", "content": "..."}],
     "chosen": [{"role": "assistant", "content": "..."}],
     "rejected": [{"role": "assistant", "content": "..."}]}

- SFT (conversational language-modelling format)::

    {"messages": [{"role": "user", "content": "..."},
                  {"role": "assistant", "content": "..."}]}

A pair whose ``rejected`` is None is a *demonstration*: it has a good response and nothing
to contrast it with, so it goes into SFT exports and is skipped (``no_rejected``) by DPO.

Writing a new source (constitutional revisions, red-team findings, ...) means writing one
class with a ``pairs()`` method; see ``docs/shaping.md``.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from bastion.core.errors import InputError
from bastion.core.types import Message, Role

__all__ = ["PairSource", "PreferencePair", "Skipped", "user_prompt"]


@dataclass(frozen=True, slots=True)
class PreferencePair:
    """A prompt with a preferred response and, usually, a dispreferred one.

    Attributes:
        prompt: the conversation before the response; its last message is the user's.
        chosen: the preferred assistant response.
        rejected: the dispreferred assistant response; None for a demonstration.
        source: where it came from, for audits (e.g. ``decisions.jsonl:12``).
        margin: the reward margin ``reward(chosen) - reward(rejected)``, when ranked.
    """

    prompt: tuple[Message, ...]
    chosen: str
    rejected: str | None
    source: str
    margin: float | None = None

    def __post_init__(self) -> None:
        if not self.prompt or self.prompt[-1].role is not Role.USER:
            raise InputError(f"{self.source}: a prompt must end with a user message")
        if not self.chosen.strip():
            raise InputError(f"{self.source}: the chosen response is empty")

    def dpo_row(self) -> dict[str, Any]:
        """The TRL conversational preference row (needs ``rejected``)."""
        if self.rejected is None:
            raise InputError(f"{self.source}: a demonstration has no rejected response")
        return {
            "prompt": _chat(self.prompt),
            "chosen": [{"role": "assistant", "content": self.chosen}],
            "rejected": [{"role": "assistant", "content": self.rejected}],
        }

    def sft_row(self) -> dict[str, Any]:
        """The TRL conversational language-modelling row: prompt plus chosen."""
        return {"messages": [*_chat(self.prompt), {"role": "assistant", "content": self.chosen}]}


@dataclass(frozen=True, slots=True)
class Skipped:
    """Input a source could not turn into a pair, and why.

    Attributes:
        reason: a short stable key, counted in the export summary (``multi_turn``, ...).
        where: the input it refers to (``file:line``).
    """

    reason: str
    where: str


@runtime_checkable
class PairSource(Protocol):
    """Anything that yields preference pairs: the extension point of the exporters.

    Yield :class:`Skipped` for input that cannot become a pair, so the export summary can
    count it; raise :class:`~bastion.core.errors.InputError` for input that is broken.
    """

    def pairs(self) -> Iterator[PreferencePair | Skipped]:
        """The pairs, in a deterministic order."""
        ...


def _chat(messages: Sequence[Message]) -> list[dict[str, str]]:
    return [{"role": m.role.value, "content": m.content} for m in messages]


def user_prompt(text: str) -> tuple[Message, ...]:
    """A one-message prompt."""
    return (Message(Role.USER, text),)
