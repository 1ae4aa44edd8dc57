"""Output-side checks: is the assistant's reply a refusal, and is it harmful?

``refusal`` (0..1): a refusal phrase near the start of the reply ("I can't help with
that", "I'm sorry, but I cannot", "As an AI, I") scores ~0.9; the same phrase later in the
reply is a disclaimer and scores low. A *partial* refusal (a refusal phrase, then
instructions anyway: numbered steps, "here's how") scores 0.5.

``harmful`` (0..1), per category:

- the reply's own views are scanned with the harm rules and the reply-only content rules
  (step lists with hazardous materials, quantities of precursors); a mere topic mention
  stays at topic level;
- a full refusal caps everything at topic level (refusals restate what they refuse);
- a reply that does not refuse and *looks compliant* (a compliance marker and at least
  ``compliant_min_chars`` characters) inherits the request's intent score, and at least
  ``reply_hard_min`` when the request hit a hard-limit intent: a step-by-step answer to
  "how do I build a pipe bomb" is blocked even if no content rule knows its wording.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from bastion.core.text import NormalizedText
from bastion.guard.layers.rules.config import RulesConfig
from bastion.guard.layers.rules.records import Hit, RuleSet
from bastion.guard.layers.rules.scanner import folded_views
from bastion.guard.layers.rules.scoring import Evidence, category_scores

__all__ = ["ReplyAssessment", "assess_reply"]

_FULL_REFUSAL = 0.8
_PARTIAL_REFUSAL = 0.5
_TOPIC_LEVEL = 0.3


@dataclass(frozen=True, slots=True)
class ReplyAssessment:
    """What the reply is: refusal and harm scores, per-category harm, evidence."""

    refusal: float
    harmful: Mapping[str, float]
    hits: tuple[Hit, ...]

    @property
    def top(self) -> tuple[str | None, float]:
        """The most harmful category and its score (None, 0.0 when none)."""
        if not self.harmful:
            return None, 0.0
        name = max(self.harmful, key=lambda c: (self.harmful[c], c))
        return name, self.harmful[name]


def assess_reply(
    rules: RuleSet,
    reply: NormalizedText,
    request_intent: Mapping[str, Evidence],
    hard: frozenset[str],
    config: RulesConfig,
) -> ReplyAssessment:
    """Judge ``reply`` given the request's intent evidence (category -> evidence)."""
    views = folded_views(reply)
    # Positions are compared between the two, so both read the canonical view.
    refusals = rules.refusals.find(views[0]) if views else []
    compliance = rules.compliance.find(views[0]) if views else []
    refusal = _refusal_score(refusals, compliance)
    content = [
        hit
        for text in views
        for book in (rules.harm, rules.reply_content)
        for hit in book.find(text, prepare=rules.neutralise)
    ]
    harmful = _content_harm(category_scores(content), refusal)
    compliant = bool(compliance) and len(reply.canonical) >= config.compliant_min_chars
    if compliant and refusal < _PARTIAL_REFUSAL:
        for name, evidence in request_intent.items():
            if evidence.intent:
                floor = (
                    max(evidence.score, config.reply_hard_min) if name in hard else evidence.score
                )
                harmful[name] = max(harmful.get(name, 0.0), floor)
    return ReplyAssessment(refusal, harmful, tuple(refusals + content + compliance))


def _refusal_score(refusals: list[Hit], compliance: list[Hit]) -> float:
    if not refusals:
        return 0.0
    best = max(refusals, key=lambda hit: hit.score)
    if best.score >= _FULL_REFUSAL and any(hit.start > best.end for hit in compliance):
        return _PARTIAL_REFUSAL
    return best.score


def _content_harm(content: Mapping[str, Evidence], refusal: float) -> dict[str, float]:
    """Per category: intent-level content counts, topic mentions stay at topic level."""
    return {
        name: evidence.score
        if evidence.intent and refusal < _FULL_REFUSAL
        else min(evidence.score, _TOPIC_LEVEL)
        for name, evidence in content.items()
    }
