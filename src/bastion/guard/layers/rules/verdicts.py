"""Turn assessments into the layer's :class:`~bastion.core.verdict.Verdict`."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from bastion.core.verdict import Verdict
from bastion.guard.layers.rules.config import RulesConfig
from bastion.guard.layers.rules.multiturn import Assessment
from bastion.guard.layers.rules.records import Hit
from bastion.guard.layers.rules.response import ReplyAssessment
from bastion.guard.layers.rules.scoring import MANIPULATION, boosted, manipulation_score

__all__ = ["LAYER", "reply_verdict", "user_verdict"]

LAYER = "rules"
_DIGITS = 4


def user_verdict(assessment: Assessment, config: RulesConfig) -> Verdict:
    """The verdict on the latest user turn (harm categories, then manipulation)."""
    scores = {
        name: evidence.score
        for name, evidence in boosted(assessment.categories, assessment.tags, config).items()
    }
    tactics = manipulation_score(assessment.techniques, config)
    if tactics > 0.0:
        scores[MANIPULATION] = max(scores.get(MANIPULATION, 0.0), tactics)
    ranked = _ranked(scores)
    return Verdict(
        layer=LAYER,
        score=ranked[0][1] if ranked else 0.0,
        category=ranked[0][0] if ranked else None,
        categories=ranked,
        techniques=tuple(sorted(assessment.tags)),
        evidence=_evidence(assessment.hits, config.max_evidence),
    )


def reply_verdict(
    assessment: Assessment, reply: ReplyAssessment, obfuscation: Iterable[str], config: RulesConfig
) -> Verdict:
    """The verdict on the assistant's reply: its score and category describe the reply."""
    ranked = _ranked({name: score for name, score in reply.harmful.items() if score > 0.0})
    category, harmful = reply.top
    return Verdict(
        layer=LAYER,
        score=round(harmful, _DIGITS),
        category=category if harmful > 0.0 else None,
        categories=ranked,
        techniques=tuple(sorted(assessment.tags.union(obfuscation))),
        evidence=_evidence(reply.hits, config.max_evidence),
        response_refusal=round(reply.refusal, _DIGITS),
        response_harmful=round(harmful, _DIGITS),
    )


def _ranked(scores: Mapping[str, float]) -> tuple[tuple[str, float], ...]:
    # Ties go to a harm category over manipulation, so a hard limit is never hidden.
    order = sorted(scores.items(), key=lambda kv: (-kv[1], kv[0] == MANIPULATION, kv[0]))
    return tuple((name, round(score, _DIGITS)) for name, score in order)


def _evidence(hits: Iterable[Hit], limit: int) -> tuple[str, ...]:
    spans: list[str] = []
    for hit in sorted(hits, key=lambda h: -h.score):
        if hit.text and hit.text not in spans:
            spans.append(hit.text)
        if len(spans) >= limit:
            break
    return tuple(spans)
