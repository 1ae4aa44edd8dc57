"""Redaction of personal data in text before the store hashes and keeps it.

Each kind is a regular expression replaced by ``[KIND]`` (``[EMAIL]``, ``[PHONE]``...).
Card numbers must pass the Luhn check, so order numbers and timestamps survive, and must
stand alone: a digit run inside a longer letter/digit token (a uuid, a hash, a key) is not
a card. Identifiers are never passed through the redactor at all (the store redacts only
free-text fields; see :data:`IDENTIFIER_FIELDS`).
Patterns are deliberately conservative: a missed phone number is a privacy leak, a
redacted recipe quantity only costs a reviewer some context, so ties go to redaction.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["IDENTIFIER_FIELDS", "PII_KINDS", "RedactionConfig", "Redactor"]

_PATTERNS: dict[str, re.Pattern[str]] = {
    "email": re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)*\.[A-Za-z]{2,}\b"),
    # Non-alphanumeric boundaries: a digit run embedded in a hex id is never a card.
    "card": re.compile(r"(?<![0-9A-Za-z-])\d(?:[ -]?\d){12,18}(?![0-9A-Za-z-])"),
    "iban": re.compile(r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,4})?\b"),
    "ssn": re.compile(r"\b\d{3}-\d{2}-\d{4}\b"),
    "ipv4": re.compile(r"\b(?:(?:25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(?:25[0-5]|2[0-4]\d|1?\d?\d)\b"),
    "ipv6": re.compile(r"(?<![\w:])(?:[0-9A-Fa-f]{1,4}:){7}[0-9A-Fa-f]{1,4}(?![\w:])"),
    "phone": re.compile(
        r"(?<![\w+])(?:\+\d{1,3}[ .-]?)?"
        r"(?:\(\d{2,4}\)[ .-]?\d{2,4}[ .-]\d{2,4}|\d{2,4}(?:[ .-]\d{2,4}){2,4})(?!\w)"
    ),
}
PII_KINDS: tuple[str, ...] = tuple(_PATTERNS)
"""Kinds in the order they are applied (cards before phones: a card looks like a phone)."""

IDENTIFIER_FIELDS: frozenset[str] = frozenset(
    {
        "id",
        "request_id",
        "entry_id",
        "item_id",
        "report_id",
        "review_id",
        "resolution_id",
        "supersedes",
        "hash",
        "prev_hash",
        "key_id",
    }
)
"""Keys of a record whose values are identifiers or hashes: never redacted, whatever they
look like (a redacted request id can no longer be found or appealed)."""


class RedactionConfig(BaseModel):
    """What the store redacts.

    Attributes:
        enabled: redact at all.
        kinds: which kinds of :data:`PII_KINDS`.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = True
    kinds: tuple[str, ...] = Field(default=PII_KINDS)

    def model_post_init(self, context: Any, /) -> None:
        unknown = sorted(set(self.kinds) - set(PII_KINDS))
        if unknown:
            raise ValueError(f"unknown redaction kinds {unknown}; known: {', '.join(PII_KINDS)}")


class Redactor:
    """Replaces personal data by ``[KIND]`` markers.

    Example:
        >>> Redactor().text("mail me at ann@example.org or +44 20 7946 0958")
        'mail me at [EMAIL] or [PHONE]'
    """

    def __init__(self, config: RedactionConfig | None = None) -> None:
        cfg = config or RedactionConfig()
        kinds: Iterable[str] = cfg.kinds if cfg.enabled else ()
        self._rules = [(kind, _PATTERNS[kind]) for kind in PII_KINDS if kind in set(kinds)]

    def text(self, value: str) -> str:
        """``value`` with every configured kind replaced."""
        for kind, pattern in self._rules:
            value = pattern.sub(_replacer(kind), value)
        return value

    def tree(self, value: Any, *, keep: frozenset[str] = frozenset()) -> Any:
        """Redact every string in a JSON-like tree, except under keys in ``keep`` or
        :data:`IDENTIFIER_FIELDS`."""
        return self._tree(value, keep | IDENTIFIER_FIELDS)

    def _tree(self, value: Any, keep: frozenset[str]) -> Any:
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, Mapping):
            return {k: v if k in keep else self._tree(v, keep) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self._tree(v, keep) for v in value]
        return value


def _replacer(kind: str) -> Callable[[re.Match[str]], str]:
    marker = "[IP]" if kind.startswith("ip") and kind != "iban" else f"[{kind.upper()}]"
    if kind != "card":
        return lambda _match: marker
    return lambda match: marker if _luhn(match.group()) else match.group()


def _luhn(candidate: str) -> bool:
    digits = [int(c) for c in candidate if c.isdigit()]
    total = 0
    for index, digit in enumerate(reversed(digits)):
        if index % 2:
            digit = digit * 2 - 9 if digit > 4 else digit * 2
        total += digit
    return total % 10 == 0
