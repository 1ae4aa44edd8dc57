"""Harmful history: an earlier assistant turn of the conversation already gave harmful content.

A jailbreak that worked leaves its trace in the exchange: the assistant's earlier replies
hold the operational content ("Step 1: get a steel pipe ..."). A user turn that follows such
a reply is judged in that light, whatever its own words ("great, now the next part"): the
conversation is producing harm, so the turn carries the reply's category and harm score,
tagged ``multi_turn:harmful_history``. Earlier replies are judged by the same reply checks
as a live reply (:func:`~bastion.guard.layers.rules.response.assess_reply`): content rules
at intent level, or a compliant reply to an explicit harmful intent; a refusal, or a reply
that only mentions a topic, adds nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from bastion.core.types import Role
from bastion.guard.layers.base import CheckRequest
from bastion.guard.layers.rules.config import RulesConfig
from bastion.guard.layers.rules.records import RuleSet
from bastion.guard.layers.rules.response import assess_reply
from bastion.guard.layers.rules.scoring import Evidence

__all__ = ["HISTORY_TAG", "HistoryHarm", "history_harm"]

HISTORY_TAG = "multi_turn:harmful_history"


@dataclass(frozen=True, slots=True)
class HistoryHarm:
    """The most harmful earlier assistant turn: its category, score and matched spans."""

    category: str
    score: float
    evidence: tuple[str, ...]


def history_harm(
    request: CheckRequest,
    rules: RuleSet,
    intent: Mapping[str, Evidence],
    hard: frozenset[str],
    config: RulesConfig,
) -> HistoryHarm | None:
    """The worst of the last ``config.history_replies`` assistant turns before the latest
    user turn, when it reaches ``config.history_harm_min``; else None."""
    best: HistoryHarm | None = None
    for index in _earlier_replies(request, config.history_replies):
        judged = assess_reply(rules, request.normalized[index], intent, hard, config)
        name, score = judged.top
        if name is None or score < config.history_harm_min:
            continue
        if best is None or score > best.score:
            spans = tuple(hit.text for hit in judged.hits if hit.text)[: config.max_evidence]
            best = HistoryHarm(name, score, spans)
    return best


def _earlier_replies(request: CheckRequest, limit: int) -> list[int]:
    """Indexes of the last ``limit`` assistant messages before the latest user message."""
    roles = [message.role for message in request.messages]
    if Role.USER not in roles:
        return []
    last_user = len(roles) - 1 - roles[::-1].index(Role.USER)
    found = [i for i in range(last_user) if roles[i] is Role.ASSISTANT]
    return found[-limit:] if limit else []
