"""Policy format 1 -> format 2 (``bastion policy migrate``).

Format 1 decided by (category, context). Format 2 adds the intent axis and the standard
hazard categories. A format-1 category the taxonomy knows (``violence``, ``drugs``, ...)
becomes a subcategory of its standard category whose table is the file's own
per-context actions for **every** intent (``any``), so a migrated policy decides those
names exactly as before; the standard categories (which the newer models emit) come with
the packaged default's intent tables, limited to the file's contexts. Categories the
taxonomy does not know stay top-level, also with ``any`` rows. Encouraged behaviours keep
their ``default_action`` as ``any``.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from bastion.core.errors import PolicyError
from bastion.policy.taxonomy import V1_TO_V2

__all__ = ["check_v1_shape", "migrate_v1"]

_DEFAULT = "default"


def migrate_v1(
    old: Mapping[str, Any], default_v2: Mapping[str, Any], *, source: str | None = None
) -> dict[str, Any]:
    """The format-2 form of a format-1 policy mapping (inputs are not changed).

    Raises:
        PolicyError: ``old`` has a part of the wrong shape (see :func:`check_v1_shape`).
    """
    check_v1_shape(old, source=source)
    contexts = dict(old.get("contexts") or {})
    standard = {
        name: _limit_contexts(copy.deepcopy(spec), contexts)
        for name, spec in (default_v2.get("categories") or {}).items()
    }
    result: dict[str, Any] = {
        "version": 2,
        "name": old.get("name"),
        "description": old.get("description", ""),
        "default_intent": default_v2.get("default_intent", "facilitate"),
        "contexts": contexts,
        "categories": standard,
    }
    for name, spec in (old.get("categories") or {}).items():
        _place(name, dict(spec) if isinstance(spec, Mapping) else spec, standard)
    return result


def check_v1_shape(old: Mapping[str, Any], *, source: str | None = None) -> None:
    """Check what the migration reads: ``contexts``, ``categories`` and each category's
    ``actions`` are mappings when present. Everything else is left to validation.

    Raises:
        PolicyError: naming the first part of the wrong shape (issue 22: a format-1 file
            with, say, a list of contexts used to crash the loader with a ValueError).
    """
    parts: list[tuple[str, object]] = [("contexts", old.get("contexts"))]
    categories = old.get("categories")
    parts.append(("categories", categories))
    if isinstance(categories, Mapping):
        parts += [
            (f"categories.{name}.actions", spec.get("actions"))
            for name, spec in categories.items()
            if isinstance(spec, Mapping)
        ]
    for where, value in parts:
        if value and not isinstance(value, Mapping):
            kind = type(value).__name__
            raise PolicyError(f"{where}: must be a mapping, got {kind}", source=source)


def _place(name: str, spec: Any, standard: dict[str, Any]) -> None:
    if not isinstance(spec, dict):
        standard[name] = spec  # let validation report it
        return
    parent = V1_TO_V2.get(name)
    actions = {"any": _row(spec)} if spec.get("limit") != "hard" or spec.get("actions") else {}
    if parent is None or parent == name:
        body = {k: v for k, v in spec.items() if k not in ("actions", "default_action")}
        if actions:
            body["actions"] = actions
        elif body.get("limit") == "hard":
            body["actions"] = {"any": "refuse"}
        standard[name] = {**standard.get(name, {}), **body} if parent == name else body
        return
    sub = {k: spec[k] for k in ("title", "description", "explanation", "alternative") if k in spec}
    sub["actions"] = actions or {"any": "refuse"}
    if "encourages" in spec:
        sub["encourages"] = spec["encourages"]
    if "review" in spec:
        sub["review"] = spec["review"]
    standard[parent].setdefault("subcategories", {})[name] = sub


def _row(spec: Mapping[str, Any]) -> Any:
    actions = dict(spec.get("actions") or {})
    if spec.get("limit") == "hard":
        return "refuse"
    if spec.get("default_action") is not None:
        actions[_DEFAULT] = spec["default_action"]
    return actions


def _limit_contexts(spec: dict[str, Any], contexts: Mapping[str, Any]) -> dict[str, Any]:
    """Drop per-context entries for contexts the migrated file does not declare."""
    for row in (spec.get("actions") or {}).values():
        if isinstance(row, dict):
            for key in [k for k in row if k != _DEFAULT and k not in contexts]:
                del row[key]
    for sub in (spec.get("subcategories") or {}).values():
        _limit_contexts(sub, contexts)
    return spec
