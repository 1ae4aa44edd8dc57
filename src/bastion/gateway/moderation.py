"""A guard decision in the shape of an OpenAI moderation result.

OpenAI's category keys are filled from the policy categories that correspond to them
(:data:`bastion.policy.taxonomy.OPENAI_MAP`); the full decision is in the extra ``bastion`` field.
``flagged`` is true when the guard would not answer the text as is with a harm category,
or would refuse or ask for context whatever the category.
"""

from __future__ import annotations

from typing import Any

from bastion.core.types import Action
from bastion.core.verdict import Decision
from bastion.gateway.schemas import decision_summary
from bastion.policy.taxonomy import OPENAI_KEYS as TAXONOMY_OPENAI_KEYS
from bastion.policy.taxonomy import OPENAI_MAP, SUBCATEGORY_PARENT

__all__ = ["OPENAI_KEYS", "moderation_result", "openai_keys"]

OPENAI_KEYS = TAXONOMY_OPENAI_KEYS


def openai_keys(name: str | None) -> tuple[str, ...]:
    """The OpenAI moderation keys a category or subcategory sets (the most specific map
    wins; a subcategory without its own falls back to its standard category's)."""
    if not name:
        return ()
    keys = OPENAI_MAP.get(name)
    if keys is None:
        keys = OPENAI_MAP.get(SUBCATEGORY_PARENT.get(name, ""), ())
    return keys


def moderation_result(decision: Decision) -> dict[str, Any]:
    """One ``results[]`` entry of a moderation response."""
    scores = dict.fromkeys(OPENAI_KEYS, 0.0)
    for verdict in decision.verdicts:
        for category, score in verdict.categories or ((verdict.category, verdict.score),):
            for key in openai_keys(category):
                scores[key] = max(scores[key], round(score, 4))
    acting = decision.action is not Action.ALLOW
    named = openai_keys(decision.subcategory) or openai_keys(decision.category)
    hit = set(named) if acting else set()
    flagged = bool(hit) or decision.action in (Action.REFUSE, Action.ASK_CONTEXT)
    return {
        "flagged": flagged,
        "categories": {key: key in hit for key in OPENAI_KEYS},
        "category_scores": scores,
        "category_applied_input_types": {key: ["text"] for key in OPENAI_KEYS},
        "bastion": decision_summary(decision),
    }
