"""What the hardening loop learns from: labelled texts cut from attack conversations.

A bypass (a conversation the guard let through) and its benign look-alikes (the same
attack run on a benign goal) become :class:`HardenExample` rows. The text of a row is the
unit the prompt classifier layer would read that carries the request: among the latest
user turn, its decoded views and the recent user turns joined, cut into the layer's
windows, the unit whose words overlap the goal's task most. Labelling the whole of a
5,000-character DAN template "unsafe" would teach the head that the template, not the
request, is what matters; its benign look-alike would then contradict it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from typing import TYPE_CHECKING

import yaml

from bastion.core.errors import ConfigError
from bastion.core.types import Message, Role
from bastion.redteam.base import Attack, Goal, Observation, Probe

if TYPE_CHECKING:
    from bastion.models.windows import Windower

__all__ = [
    "BENIGN_CATEGORY",
    "NOT_BENIGN_WRAPPERS",
    "UNCATEGORISED",
    "HardenExample",
    "UnitPicker",
    "benign_goals",
    "goal_probes",
]

BENIGN_CATEGORY = "benign"
UNCATEGORISED = "uncategorised"
"""Category of a harmful goal whose source names no policy category (the shared data's
pool goals): its rows train the unsafe head only, never the category head."""
NOT_BENIGN_WRAPPERS = frozenset({"many_shot"})
"""Attacks whose wrapper is harmful by itself (many-shot's faux dialogue asks how to pick
locks and hotwire cars), so wrapping a benign goal does not make a benign look-alike."""
_WINDOW_TURNS = 3  # the prompt classifier layer's default window
_MAX_VIEWS = 3
_MAX_PROBES = 12
_WORD = re.compile(r"[a-z0-9]+")
_BENIGN_REPLY = "Sure. Here is a general overview of that, with the main points explained."


@dataclass(frozen=True, slots=True)
class HardenExample:
    """One labelled training text.

    Attributes:
        text: what the classifier head is trained on.
        label: 1 unsafe (a bypass), 0 safe (a benign look-alike).
        category: the goal's policy category (None for benign rows).
        attack: the attack that made it.
        variant: the attack variant (converter) that made it.
        goal_id: the goal it carries.
        round: the hardening round that found it.
    """

    text: str
    label: int
    category: str | None
    attack: str
    variant: str
    goal_id: str
    round: int


def benign_goals() -> tuple[Goal, ...]:
    """The packaged benign goals (``bastion/redteam/data/benign_goals.yaml``).

    Raises:
        ConfigError: the file cannot be read.
    """
    source = resources.files("bastion.redteam").joinpath("data/benign_goals.yaml")
    try:
        rows = yaml.safe_load(source.read_text(encoding="utf-8"))
        return tuple(
            Goal(str(r["id"]), BENIGN_CATEGORY, str(r["task"]), str(r["topic"])) for r in rows
        )
    except (OSError, yaml.YAMLError, KeyError, TypeError) as exc:
        raise ConfigError(f"benign goals cannot be read: {exc}") from None


def goal_probes(attack: Attack, goal: Goal) -> list[Probe]:
    """The goal-carrying probes ``attack`` sends for ``goal`` to a target that answers
    every turn blandly and never counts as a success (no I/O: attacks are sans-I/O)."""
    run = attack.run(goal)
    probes: list[Probe] = []
    try:
        probe = next(run)
        while len(probes) < _MAX_PROBES:
            probes.append(probe)
            probe = run.send(Observation(_BENIGN_REPLY, False, 0.0))
    except StopIteration:
        pass
    finally:
        run.close()
    return [p for p in probes if p.carries_goal]


class UnitPicker:
    """Cuts a conversation into the units the prompt classifier layer reads, picks one.

    Args:
        windower: the layer's windower (None: the layer's defaults).
    """

    def __init__(self, windower: Windower | None = None) -> None:
        if windower is None:
            from bastion.models.windows import Windower as Windower_

            windower = Windower_(126, 96, 32)
        self._windower = windower

    def units(self, messages: Sequence[Message]) -> list[str]:
        """The texts the layer would score for this conversation (canonical form)."""
        from bastion.guard.normalize import normalize

        norms = [normalize(m.content) for m in messages if m.role is Role.USER]
        if not norms:
            return []
        turns = [n.canonical for n in norms]
        texts = [turns[-1], *(v.text for v in norms[-1].decoded[:_MAX_VIEWS])]
        window = turns[-_WINDOW_TURNS:]
        if len(window) > 1:
            texts.append("\n".join(window))
        return list(dict.fromkeys(u for t in texts for u in self._windower.split(t) if u.strip()))

    def pick(self, messages: Sequence[Message], task: str) -> str | None:
        """The unit sharing most words with ``task`` (the last such unit on a tie)."""
        units = self.units(messages)
        if not units:
            return None
        words = set(_WORD.findall(task.casefold()))
        scores = [len(words & set(_WORD.findall(u.casefold()))) for u in units]
        best = max(scores)
        return units[max(i for i, s in enumerate(scores) if s == best)]

    def everything(
        self, probe: Probe, goal: Goal, *, where: tuple[str, int]
    ) -> list[HardenExample]:
        """Every unit of a benign probe as a safe row: a look-alike's template-only windows
        must read as safe too, or the wrapper alone would be learned as unsafe."""
        attack, round_ = where
        return [
            HardenExample(u, 0, None, attack, probe.converter, goal.id, round_)
            for u in self.units(probe.messages)
        ]

    def example(
        self, probe: Probe, goal: Goal, *, label: int, where: tuple[str, int]
    ) -> HardenExample | None:
        """A labelled row from one probe; ``where`` is ``(attack, round)``."""
        text = self.pick(probe.messages, goal.task)
        if text is None:
            return None
        category = goal.category if label and goal.category != UNCATEGORISED else None
        attack, round_ = where
        return HardenExample(text, label, category, attack, probe.converter, goal.id, round_)
