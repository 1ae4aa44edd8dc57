"""Conversation-level accumulation: intent spread over turns adds up instead of resetting.

Which messages count: the last ``history_turns`` user turns (harm and tactics), plus tool
messages and system / developer messages after the first one (tactics only: instructions
found there are reported as ``injection:indirect``; the operator's own first system
message is never scanned). A message's *age* is the number of user turns after it.

How they add up:

1. The latest user turn (age 0) counts in full. Earlier turns count with weight
   ``decay ** age`` and are capped at ``tag_only_cap``: they tag and feed the two
   escalations below, but never act on their own.
2. Split payload: the canonical texts of the last ``split_window`` user turns are joined
   with a space and scanned with the intent rules; an intent that only the joined text
   shows, and that reaches into the latest turn, counts in full and is tagged
   ``multi_turn:split_payload`` ("how do I make a" / "pipe bomb").
3. Crescendo: when the latest turn is an operational follow-up ("how would someone make
   one", "exact amounts", "be more specific") and an earlier turn touched category C,
   C scores as intent (``crescendo_hard`` / ``crescendo_soft``), tagged
   ``multi_turn:crescendo``. A follow-up needs an anaphor or a demand for specifics, so
   "history of chemistry" then "a cake recipe, step by step" stays low; a vague one
   ("be more specific") escalates only a category that was asked for outright or that
   two earlier turns kept returning to.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

from bastion.core.text import NormalizedText
from bastion.core.types import Role
from bastion.guard.layers.base import CheckRequest
from bastion.guard.layers.rules.config import RulesConfig
from bastion.guard.layers.rules.records import Hit, MessageScan, RuleSet
from bastion.guard.layers.rules.scanner import folded_views
from bastion.guard.layers.rules.scoring import (
    Evidence,
    category_scores,
    decayed,
    merged,
    technique_scores,
)

__all__ = ["CRESCENDO", "INDIRECT", "SPLIT", "Assessment", "Turn", "assess", "select"]

INDIRECT = "injection:indirect"
CRESCENDO = "multi_turn:crescendo"
SPLIT = "multi_turn:split_payload"
_EMBEDDED_ROLES = (Role.TOOL, Role.SYSTEM, Role.DEVELOPER)
_CONCRETE = 0.8  # follow-up rules scoring this much demand operational detail
_PERSISTENT = 2  # earlier turns on one category that make a vague follow-up count


@dataclass(frozen=True, slots=True)
class Turn:
    """One scanned message: its age, whether it is a user turn, and what was found."""

    age: int
    user: bool
    norm: NormalizedText
    scan: MessageScan


@dataclass(frozen=True, slots=True)
class Assessment:
    """What the conversation adds up to, before tactics boost the categories.

    Attributes:
        categories: harm category -> evidence (escalations included).
        techniques: tactic -> score (earlier turns decayed and capped).
        tags: every tactic seen: rule techniques, normalisation techniques, multi-turn.
        hits: every hit, for evidence.
    """

    categories: Mapping[str, Evidence]
    techniques: Mapping[str, float]
    tags: frozenset[str]
    hits: tuple[Hit, ...]


def select(request: CheckRequest, history_turns: int) -> Iterator[tuple[int, bool, int]]:
    """``(age, is_user, index)`` of every message to scan, newest first."""
    users_after = 0
    for index in range(len(request.messages) - 1, -1, -1):
        role = request.messages[index].role
        if role is Role.USER:
            if users_after >= history_turns:
                return
            yield users_after, True, index
            users_after += 1
        elif role in _EMBEDDED_ROLES and (index > 0 or role is Role.TOOL):
            yield users_after, False, index


def assess(
    turns: Sequence[Turn], rules: RuleSet, hard: frozenset[str], config: RulesConfig
) -> Assessment:
    """Add up the turns (oldest first) into one assessment."""
    categories: dict[str, Evidence] = {}
    techniques: dict[str, float] = {}
    tags: set[str] = set()
    hits: list[Hit] = []
    for turn in turns:
        found = category_scores(turn.scan.harm) if turn.user else {}
        tactics = technique_scores(turn.scan.techniques, rename=None if turn.user else INDIRECT)
        if turn.age > 0:
            found = decayed(found, turn.age, config)
            tactics = {
                t: min(s * config.decay**turn.age, config.tag_only_cap) for t, s in tactics.items()
            }
        categories = merged(categories, found)
        for tag, score in tactics.items():
            techniques[tag] = max(techniques.get(tag, 0.0), score)
        tags.update(tactics, turn.scan.obfuscation)
        hits.extend(turn.scan.harm + turn.scan.techniques)
    users = [turn for turn in turns if turn.user]
    for tag, (found, extra) in (
        (SPLIT, split_payload(users, rules, config)),
        (CRESCENDO, crescendo(users, rules, hard, config)),
    ):
        if found:
            categories = merged(categories, found)
            tags.add(tag)
            hits.extend(extra)
    return Assessment(categories, techniques, frozenset(tags), tuple(hits))


def split_payload(
    users: Sequence[Turn], rules: RuleSet, config: RulesConfig
) -> tuple[dict[str, Evidence], list[Hit]]:
    """Intent that only the joined last turns show, reaching into the latest turn."""
    window = users[-config.split_window :]
    if len(window) < 2:
        return {}, []
    parts = [rules.neutralise(turn.norm.canonical) for turn in window]
    joined = " ".join(parts)
    offset = len(joined) - len(parts[-1])
    alone = {hit.tag for turn in window for hit in turn.scan.harm if hit.intent}
    found = [
        hit
        for hit in rules.harm.find(joined, min_end=offset)
        if hit.intent and hit.tag not in alone and hit.start < offset
    ]
    return category_scores(found), found


def crescendo(
    users: Sequence[Turn], rules: RuleSet, hard: frozenset[str], config: RulesConfig
) -> tuple[dict[str, Evidence], list[Hit]]:
    """Escalate what earlier turns touched when the latest turn asks for operational detail."""
    if len(users) < 2 or users[-1].age != 0:
        return {}, []
    follow = [hit for text in folded_views(users[-1].norm) for hit in rules.followups.find(text)]
    if not follow:
        return {}, []
    concrete = max(hit.score for hit in follow) >= _CONCRETE
    escalated = _escalatable(users[:-1], concrete) - set(config.no_escalation)
    found = {
        name: Evidence(config.crescendo_hard if name in hard else config.crescendo_soft, True)
        for name in escalated
    }
    return found, follow[:1] if found else []


def _escalatable(earlier: Sequence[Turn], concrete: bool) -> set[str]:
    """Categories a follow-up may escalate.

    A concrete follow-up ("how would someone make one") escalates any category an earlier
    turn touched; a vague one ("be more specific") only one that was asked for outright
    or that two earlier turns kept coming back to.
    """
    touched: dict[str, int] = {}
    asked: set[str] = set()
    for turn in earlier:
        for name in {hit.tag for hit in turn.scan.harm}:
            touched[name] = touched.get(name, 0) + 1
        asked.update(hit.tag for hit in turn.scan.harm if hit.intent)
    if concrete:
        return set(touched)
    return asked | {name for name, count in touched.items() if count >= _PERSISTENT}
