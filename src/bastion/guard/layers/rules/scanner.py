"""Scanning one normalised message: every view, harm rules behind the benign neutralisers."""

from __future__ import annotations

from bastion.core.text import NormalizedText
from bastion.guard.layers.rules.records import Hit, MessageScan, RuleSet

__all__ = ["folded_views", "scan_embedded", "scan_user"]


def folded_views(norm: NormalizedText) -> list[str]:
    """The text of every view, case-folded (the canonical view already is)."""
    return [
        view.text if view.method == "canonical" else view.text.casefold() for view in norm.views
    ]


def scan_user(rules: RuleSet, norm: NormalizedText) -> MessageScan:
    """Harm and technique hits over every view of a user message."""
    harm: list[Hit] = []
    techniques: list[Hit] = []
    for text in folded_views(norm):
        harm.extend(rules.harm.find(text, prepare=rules.neutralise))
        techniques.extend(
            hit for hit in rules.techniques.find(text) if hit.rule.scope != "embedded"
        )
    if not harm and not techniques and not norm.techniques:
        return _EMPTY
    return MessageScan(tuple(harm), tuple(techniques), norm.techniques)


def scan_embedded(rules: RuleSet, norm: NormalizedText) -> MessageScan:
    """Injection markers over every view of a tool or later system message."""
    found = [
        hit
        for text in folded_views(norm)
        for hit in rules.techniques.find(text)
        if hit.rule.scope != "user"
    ]
    return MessageScan((), tuple(found), norm.techniques)


_EMPTY = MessageScan()
