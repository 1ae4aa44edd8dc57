"""A guard decision in the shape of an OpenAI moderation result.

OpenAI's category keys are filled from the policy categories that correspond to them
(:data:`OPENAI_CATEGORIES`); the full decision is in the extra ``bastion`` field.
``flagged`` is true when the guard would not answer the text as is with a harm category,
or would refuse or ask for context whatever the category.
"""

from __future__ import annotations

from typing import Any

from bastion.core.types import Action
from bastion.core.verdict import Decision
from bastion.gateway.schemas import decision_summary

__all__ = ["OPENAI_CATEGORIES", "OPENAI_KEYS", "moderation_result"]

OPENAI_KEYS = (
    "harassment",
    "harassment/threatening",
    "hate",
    "hate/threatening",
    "illicit",
    "illicit/violent",
    "self-harm",
    "self-harm/instructions",
    "self-harm/intent",
    "sexual",
    "sexual/minors",
    "violence",
    "violence/graphic",
)

OPENAI_CATEGORIES: dict[str, tuple[str, ...]] = {
    "sexual_minors": ("sexual/minors", "sexual"),
    "sexual_adult": ("sexual",),
    "self_harm": ("self-harm", "self-harm/intent"),
    "violence": ("violence", "violence/graphic"),
    "hate_harassment": ("hate", "harassment"),
    "targeted_attacks": ("violence", "illicit/violent", "harassment/threatening"),
    "mass_casualty_weapons": ("illicit/violent", "illicit"),
    "mass_harm": ("illicit/violent", "violence"),
    "weapons": ("illicit/violent",),
    "extremism": ("hate/threatening", "illicit/violent"),
    "drugs": ("illicit",),
    "cybersecurity": ("illicit",),
}
"""Policy category -> the OpenAI moderation keys it sets."""


def moderation_result(decision: Decision) -> dict[str, Any]:
    """One ``results[]`` entry of a moderation response."""
    scores = dict.fromkeys(OPENAI_KEYS, 0.0)
    for verdict in decision.verdicts:
        for category, score in verdict.categories or ((verdict.category, verdict.score),):
            for key in OPENAI_CATEGORIES.get(category or "", ()):
                scores[key] = max(scores[key], round(score, 4))
    acting = decision.action is not Action.ALLOW
    hit = set(OPENAI_CATEGORIES.get(decision.category or "", ())) if acting else set()
    flagged = bool(hit) or decision.action in (Action.REFUSE, Action.ASK_CONTEXT)
    return {
        "flagged": flagged,
        "categories": {key: key in hit for key in OPENAI_KEYS},
        "category_scores": scores,
        "category_applied_input_types": {key: ["text"] for key in OPENAI_KEYS},
        "bastion": decision_summary(decision),
    }
