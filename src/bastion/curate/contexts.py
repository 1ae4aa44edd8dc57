"""Curation contexts: how the policy's action for a row becomes keep, flag or drop.

The policy decides an action per hazard category x intent x deployment context, exactly
as for live traffic. A curation context names the deployment context to read the policy
in (``sft_minors`` reads it as ``minors``) and maps each action to what happens to the
row. Per-category overrides cover what the action alone cannot say (pre-training may keep
depicted violence that an SFT set for a minors product drops).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from bastion.core.types import Action
from bastion.curate.verdict import RowAction

__all__ = ["DEFAULT_CONTEXTS", "CurationContext"]


class CurationContext(BaseModel):
    """One curation context.

    Attributes:
        name: the context's name (``pretraining``, ``sft_general``, ``sft_minors``...).
        description: what corpus it is for.
        policy_context: the policy's deployment context the rows are judged in.
        actions: row action per guard action.
        categories: row action per policy category, overriding ``actions`` whenever the
            guard names that category with an action other than ``allow``.
        hard_limits: row action for any hard-limit category, whatever the action.
        harmful_reply: row action for a reply the response classifier calls harmful.
        refusal_example: row action for a harmful prompt answered with a refusal (good
            safety SFT data: kept and marked by default).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    description: str = ""
    policy_context: str = "general"
    actions: Mapping[Action, RowAction] = Field(
        default_factory=lambda: {
            Action.ALLOW: RowAction.KEEP,
            Action.CAUTION: RowAction.KEEP,
            Action.ASK_CONTEXT: RowAction.FLAG,
            Action.REFUSE: RowAction.DROP,
        }
    )
    categories: Mapping[str, RowAction] = Field(default_factory=dict)
    hard_limits: RowAction = RowAction.DROP
    harmful_reply: RowAction = RowAction.DROP
    refusal_example: RowAction = RowAction.FLAG

    def row_action(self, action: Action, category: str | None, limit: str) -> RowAction:
        """What happens to a row the guard gave ``action`` for ``category``."""
        if action is Action.ALLOW:
            return self.actions.get(Action.ALLOW, RowAction.KEEP)
        if limit == "hard":
            return self.hard_limits
        if category is not None and category in self.categories:
            return self.categories[category]
        return self.actions.get(action, RowAction.DROP)


# Prompt attacks are the injection stage's to judge (its detector is the attack
# specialist); the guard's prompt classifier reads many benign documents as attacks.
_ATTACKS_TO_INJECTION = {"prompt_attack": "keep"}


def _ctx(name: str, description: str, policy_context: str, **kw: Any) -> CurationContext:
    categories = {**_ATTACKS_TO_INJECTION, **kw.pop("categories", {})}
    return CurationContext.model_validate(
        {
            "name": name,
            "description": description,
            "policy_context": policy_context,
            "categories": categories,
            **kw,
        }
    )


DEFAULT_CONTEXTS: Mapping[str, CurationContext] = {
    c.name: c
    for c in (
        _ctx(
            "pretraining",
            "Web-scale pre-training text: discussion and fiction stay, operational harm goes.",
            "general",
        ),
        _ctx(
            "sft_general",
            "Supervised fine-tuning for a general assistant: cautionary rows are flagged.",
            "general",
            actions={"allow": "keep", "caution": "flag", "ask_context": "flag", "refuse": "drop"},
        ),
        _ctx(
            "sft_minors",
            "Fine-tuning for a product used by minors: the policy's minors context, stricter.",
            "minors",
            actions={"allow": "keep", "caution": "flag", "ask_context": "drop", "refuse": "drop"},
            categories={"sexual_content": "drop", "sex_related_crimes": "drop"},
        ),
    )
}
"""The built-in contexts; a curation config can add or replace any."""
