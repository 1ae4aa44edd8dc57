"""The policy (format 2): category x intent x context -> action.

A category (MLCommons / Llama Guard hazards, :mod:`bastion.policy.taxonomy`) has a tier
(``hard`` / ``soft`` / ``encouraged``), an action table by intent and context, and
optional subcategories that override rows of that table. Every name a layer may emit (a
category or a subcategory) resolves to an *effective* :class:`CategorySpec` through
:attr:`Policy.lookup`.

Action table syntax, per intent (``facilitate``, ``depict``, ``discuss``, ``seek_help``,
``none``, or ``any`` for the intents not listed): an action for every context, or a
mapping ``{context: action, default: action}``.

Validated on construction: unknown keys, undeclared contexts, a hard limit moved by an
intent other than ``discuss`` or by a context, an (intent, context) with no action and
dangling links all raise (as pydantic's ``ValidationError``; :func:`load_policy` turns
that into :class:`~bastion.core.errors.PolicyError`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, model_validator

from bastion.core.types import Action, Intent, Limit

__all__ = [
    "ANY_INTENT",
    "CategorySpec",
    "ContextSpec",
    "IntentRow",
    "Policy",
    "ReviewMode",
    "SubcategorySpec",
]

_ID = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
_CODE = re.compile(r"^S[0-9]{1,2}$")
ANY_INTENT = "any"
_INTENT_KEYS = frozenset({*(i.value for i in Intent), ANY_INTENT})
_DEFAULT = "default"

IntentRow = Action | dict[str, Action]
"""One intent's actions: one action for every context, or ``{context|default: action}``."""


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


def _check_intent_keys(actions: Mapping[str, IntentRow]) -> None:
    unknown = sorted(set(actions) - _INTENT_KEYS)
    if unknown:
        raise ValueError(f"unknown intents {unknown}; use {sorted(_INTENT_KEYS)}")


class SubcategorySpec(_Frozen):
    """A finer hazard inside a category: its own wording, and rows that override the
    category's action table (intents it does not list keep the category's rows)."""

    title: str = Field(min_length=1)
    description: str | None = None
    explanation: str | None = None
    alternative: str | None = None
    actions: dict[str, IntentRow] = Field(default_factory=dict)
    encourages: tuple[str, ...] = ()
    review: ReviewMode | None = None

    @model_validator(mode="after")
    def _check_keys(self) -> SubcategorySpec:
        _check_intent_keys(self.actions)
        return self


class CategorySpec(_Frozen):
    """One policy category (or, from :attr:`Policy.lookup`, a subcategory's effective spec).

    ``actions`` is the intent x context table (module docstring); ``explanations`` may
    word the explanation per intent (a person seeking help is not told they asked for
    harm). ``code`` is the Llama Guard / MLCommons hazard code. ``encourages`` links the
    encouraged behaviours whose ``guidance`` the assistant should follow.
    """

    title: str = Field(min_length=1)
    limit: Limit
    description: str = Field(min_length=1)
    explanation: str = Field(min_length=1)
    explanations: dict[Intent, str] = Field(default_factory=dict)
    alternative: str | None = None
    guidance: str | None = None
    code: str | None = Field(default=None, pattern=_CODE.pattern)
    actions: dict[str, IntentRow] = Field(default_factory=dict)
    encourages: tuple[str, ...] = ()
    review: ReviewMode = ReviewMode.UNCERTAIN
    subcategories: dict[str, SubcategorySpec] = Field(default_factory=dict)
    parent: str | None = None

    @model_validator(mode="after")
    def _check_tier(self) -> CategorySpec:
        if self.limit is Limit.NONE:
            raise ValueError("limit must be hard, soft or encouraged")
        _check_intent_keys(self.actions)
        if self.limit is not Limit.HARD and not self.actions:
            raise ValueError(f"a {self.limit.value} limit needs an actions table")
        if self.limit is Limit.ENCOURAGED and not self.guidance:
            raise ValueError("an encouraged behaviour needs guidance for the assistant")
        return self

    def explanation_for(self, intent: Intent | None) -> str:
        """The explanation worded for ``intent`` (the general one when none is set)."""
        return self.explanations.get(intent, self.explanation) if intent else self.explanation


class Policy(_Frozen):
    """A whole policy file (format 2)."""

    version: Literal[2]
    name: str = Field(min_length=1)
    description: str = ""
    default_intent: Intent = Intent.FACILITATE
    contexts: dict[str, ContextSpec] = Field(min_length=1)
    categories: dict[str, CategorySpec] = Field(min_length=1)
    migrated_from: int | None = None

    _lookup: dict[str, CategorySpec] = PrivateAttr(default_factory=dict)
    _table: dict[tuple[str, Intent, str], Action] = PrivateAttr(default_factory=dict)

    @model_validator(mode="after")
    def _check_references(self) -> Policy:
        for name in [*self.contexts, *self.categories]:
            if not _ID.match(name):
                raise ValueError(f"{name!r} is not a valid id (lowercase, digits, underscores)")
        self._lookup = _effective_specs(self.categories)
        for name, spec in self._lookup.items():
            _check_category_refs(name, spec, self)
        self._table = {
            (name, intent, ctx): _resolve(name, spec, intent, ctx)
            for name, spec in self._lookup.items()
            for intent in Intent
            for ctx in self.contexts
        }
        return self

    @property
    def ref(self) -> str:
        """``name@version`` for records."""
        return f"{self.name}@{self.version}"

    @property
    def lookup(self) -> Mapping[str, CategorySpec]:
        """Every name a layer may emit (categories and subcategories) -> its effective spec."""
        return self._lookup

    def category_of(self, name: str) -> str:
        """The category ``name`` belongs to (itself for a category).

        Raises:
            KeyError: unknown name.
        """
        spec = self._lookup[name]
        return spec.parent or name

    def action_for(self, category: str, context: str, intent: Intent | None = None) -> Action:
        """The policy's action for ``category`` (or subcategory) in ``context``, for
        ``intent`` (``default_intent`` when None).

        Raises:
            KeyError: unknown category or context.
        """
        return self._table[(category, intent or self.default_intent, context)]

    def has_context(self, context: str) -> bool:
        """Whether ``context`` is declared."""
        return context in self.contexts


def _effective_specs(categories: Mapping[str, CategorySpec]) -> dict[str, CategorySpec]:
    specs: dict[str, CategorySpec] = dict(categories)
    for cat_id, cat in categories.items():
        for sub_id, sub in cat.subcategories.items():
            if not _ID.match(sub_id):
                raise ValueError(f"{sub_id!r} is not a valid id (lowercase, digits, underscores)")
            if sub_id in specs:
                raise ValueError(f"subcategory {sub_id!r} of {cat_id!r} repeats another name")
            specs[sub_id] = _merge(cat_id, cat, sub)
    return specs


def _merge(cat_id: str, cat: CategorySpec, sub: SubcategorySpec) -> CategorySpec:
    return cat.model_copy(
        update={
            "title": sub.title,
            "description": sub.description or cat.description,
            "explanation": sub.explanation or cat.explanation,
            "alternative": sub.alternative or cat.alternative,
            "actions": _merge_rows(cat.actions, sub.actions),
            "encourages": tuple(dict.fromkeys((*cat.encourages, *sub.encourages))),
            "review": sub.review or cat.review,
            "subcategories": {},
            "parent": cat_id,
        }
    )


def _merge_rows(
    category: Mapping[str, IntentRow], sub: Mapping[str, IntentRow]
) -> dict[str, IntentRow]:
    """A subcategory's rows over its category's; a subcategory ``any`` row replaces every
    category row the subcategory does not list."""
    if ANY_INTENT in sub:
        return dict(sub)
    return {**category, **sub}


def _row(spec: CategorySpec, intent: Intent) -> IntentRow | None:
    return spec.actions.get(intent.value, spec.actions.get(ANY_INTENT))


def _resolve(name: str, spec: CategorySpec, intent: Intent, context: str) -> Action:
    row = _row(spec, intent)
    if row is None:
        if spec.limit is Limit.HARD:
            return Action.REFUSE
        raise ValueError(f"{name!r} has no action for intent {intent.value!r}")
    if isinstance(row, Action):
        return row
    action = row.get(context, row.get(_DEFAULT))
    if action is None:
        raise ValueError(
            f"{name!r} has no action for intent {intent.value!r} in context {context!r}"
        )
    return action


def _check_category_refs(name: str, spec: CategorySpec, policy: Policy) -> None:
    for intent_key, row in spec.actions.items():
        contexts = set(row) - {_DEFAULT} if isinstance(row, dict) else set()
        unknown = sorted(contexts - set(policy.contexts))
        if unknown:
            raise ValueError(f"category {name!r} names undeclared contexts {unknown}")
        if spec.limit is Limit.HARD:
            _check_hard(name, intent_key, row)
    for target in spec.encourages:
        linked = policy.categories.get(target)
        if linked is None or linked.limit is not Limit.ENCOURAGED:
            raise ValueError(
                f"category {name!r} encourages {target!r}, not an encouraged behaviour"
            )


def _check_hard(name: str, intent_key: str, row: IntentRow) -> None:
    """A hard limit refuses for every intent and context; only ``discuss`` (textbook-level
    questions, as the policy text says) may answer with caution."""
    actions = {row} if isinstance(row, Action) else set(row.values())
    allowed = (
        {Action.REFUSE, Action.CAUTION} if intent_key == Intent.DISCUSS.value else {Action.REFUSE}
    )
    moved = sorted(a.value for a in actions - allowed)
    if moved:
        raise ValueError(
            f"hard limit {name!r} refuses for intent {intent_key!r} in every context; "
            f"cannot set {moved}"
        )
