"""The policy: taxonomy, deployment contexts and the decision per (category, context).

Validated on construction: unknown keys, undeclared contexts, a hard limit moved by a
context, a soft limit with no decision for some context and dangling links all raise
:class:`~bastion.core.errors.PolicyError` (via pydantic's ``ValidationError`` in
:func:`bastion.policy.loader.load_policy`).
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, model_validator

from bastion.core.types import Action, Limit

__all__ = ["CategorySpec", "ContextSpec", "Policy", "ReviewMode"]

_ID = re.compile(r"^[a-z][a-z0-9_]{0,63}$")


class ReviewMode(StrEnum):
    """When decisions in a category go to human review."""

    ALWAYS = "always"
    NEVER = "never"
    UNCERTAIN = "uncertain"


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ContextSpec(_Frozen):
    """A deployment context (``general``, ``minors``, ...)."""

    description: str = Field(min_length=1)


class CategorySpec(_Frozen):
    """One policy category.

    ``actions`` maps a context to its action; contexts not listed use ``default_action``.
    Hard limits may omit both (they always refuse). ``encourages`` links a soft category to
    the encouraged behaviours whose ``guidance`` the assistant should follow.
    """

    title: str = Field(min_length=1)
    limit: Limit
    description: str = Field(min_length=1)
    explanation: str = Field(min_length=1)
    alternative: str | None = None
    guidance: str | None = None
    actions: dict[str, Action] = Field(default_factory=dict)
    default_action: Action | None = None
    encourages: tuple[str, ...] = ()
    review: ReviewMode = ReviewMode.UNCERTAIN

    @model_validator(mode="after")
    def _check_tier(self) -> CategorySpec:
        if self.limit is Limit.NONE:
            raise ValueError("limit must be hard, soft or encouraged")
        if self.limit is Limit.HARD:
            moved = {ctx: a.value for ctx, a in self.actions.items() if a is not Action.REFUSE}
            if moved:
                raise ValueError(f"a hard limit refuses in every context; cannot set {moved}")
            if self.default_action not in (None, Action.REFUSE):
                raise ValueError("a hard limit's default_action can only be refuse")
        elif self.default_action is None and not self.actions:
            raise ValueError(f"a {self.limit.value} limit needs actions or a default_action")
        if self.limit is Limit.ENCOURAGED and not self.guidance:
            raise ValueError("an encouraged behaviour needs guidance for the assistant")
        return self


class Policy(_Frozen):
    """A whole policy file."""

    version: Literal[1]
    name: str = Field(min_length=1)
    description: str = ""
    contexts: dict[str, ContextSpec] = Field(min_length=1)
    categories: dict[str, CategorySpec] = Field(min_length=1)

    _table: dict[tuple[str, str], Action] = PrivateAttr(default_factory=dict)

    @model_validator(mode="after")
    def _check_references(self) -> Policy:
        for name in [*self.contexts, *self.categories]:
            if not _ID.match(name):
                raise ValueError(f"{name!r} is not a valid id (lowercase, digits, underscores)")
        for cat_id, cat in self.categories.items():
            _check_category_refs(cat_id, cat, self)
        self._table = {
            (cat_id, ctx): _resolve(cat, ctx)
            for cat_id, cat in self.categories.items()
            for ctx in self.contexts
        }
        return self

    @property
    def ref(self) -> str:
        """``name@version`` for records."""
        return f"{self.name}@{self.version}"

    def action_for(self, category: str, context: str) -> Action:
        """The policy's action for ``category`` in ``context``.

        Raises:
            KeyError: unknown category or context.
        """
        return self._table[(category, context)]

    def has_context(self, context: str) -> bool:
        """Whether ``context`` is declared."""
        return context in self.contexts


def _resolve(cat: CategorySpec, context: str) -> Action:
    if cat.limit is Limit.HARD:
        return Action.REFUSE
    action = cat.actions.get(context, cat.default_action)
    if action is None:  # guarded by validation; kept for type narrowing
        raise ValueError(f"no action for context {context!r}")
    return action


def _check_category_refs(cat_id: str, cat: CategorySpec, policy: Policy) -> None:
    unknown = sorted(set(cat.actions) - set(policy.contexts))
    if unknown:
        raise ValueError(f"category {cat_id!r} names undeclared contexts {unknown}")
    if cat.limit is Limit.SOFT and cat.default_action is None:
        missing = sorted(set(policy.contexts) - set(cat.actions))
        if missing:
            raise ValueError(
                f"soft category {cat_id!r} has no action for contexts {missing} "
                "and no default_action"
            )
    for target in cat.encourages:
        linked = policy.categories.get(target)
        if linked is None or linked.limit is not Limit.ENCOURAGED:
            raise ValueError(
                f"category {cat_id!r} encourages {target!r}, not an encouraged behaviour"
            )
