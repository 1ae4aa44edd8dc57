"""The schema of the rule data files, as pydantic models (unknown keys are errors).

Every data file is a YAML mapping. Rule books are lists of *groups*; a group names the
trigger stems its rules need and may set defaults (``category``, ``kind``, ``technique``,
``scope``, ``start_within``) that its rules inherit. Every rule carries ``examples`` it
must match and may carry ``counterexamples`` it must not; both are checked on load.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from bastion.guard.layers.rules.records import Kind, Scope

__all__ = ["GroupSpec", "NeutraliserSpec", "RuleSpec", "inherit"]

_ID = r"^[a-z0-9][a-z0-9_.:-]*$"
_INHERITED = ("category", "kind", "technique", "scope", "start_within", "score")


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RuleSpec(_Spec):
    """One rule as written in a data file (before macro expansion and compilation)."""

    id: str = Field(pattern=_ID)
    pattern: str = Field(min_length=1)
    score: float = Field(ge=0.0, le=1.0)
    examples: tuple[str, ...] = Field(min_length=1)
    counterexamples: tuple[str, ...] = ()
    kind: Kind | None = None
    category: str | None = None
    technique: str | None = Field(default=None, pattern=r"^[a-z_]+:[a-z_]+$")
    scope: Scope = "user"
    start_within: int | None = Field(default=None, gt=0)


class GroupSpec(_Spec):
    """A group of rules that share trigger stems (raw rules; see :func:`inherit`)."""

    name: str = Field(pattern=_ID)
    triggers: tuple[str, ...] = Field(min_length=1)
    rules: tuple[dict[str, Any], ...] = Field(min_length=1)
    kind: Kind | None = None
    category: str | None = None
    technique: str | None = None
    scope: Scope | None = None
    start_within: int | None = None
    score: float | None = None


class NeutraliserSpec(_Spec):
    """A benign look-alike that is blanked out before harm matching."""

    id: str = Field(pattern=_ID)
    pattern: str = Field(min_length=1)
    triggers: tuple[str, ...] = Field(min_length=1)
    examples: tuple[str, ...] = Field(min_length=1)


def inherit(group: GroupSpec, raw: dict[str, Any], default_kind: Kind) -> dict[str, Any]:
    """A rule's fields with the group's defaults filled in where the rule is silent."""
    merged = dict(raw)
    for key in _INHERITED:
        value = getattr(group, key)
        if value is not None and key not in merged:
            merged[key] = value
    merged.setdefault("kind", default_kind)
    return merged
