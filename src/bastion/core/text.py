"""Records of what text normalisation found: the canonical form and the decoded views."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["NormalizedText", "View"]


@dataclass(frozen=True, slots=True)
class View:
    """One reading of a text that the rule layers scan.

    ``method`` says how it was obtained: ``canonical`` (Unicode-normalised, invisible
    characters removed, homoglyphs folded, case-folded, spacing tricks joined), ``leet``,
    or a decoder (``base64``, ``hex``, ``rot13``, ``url``, ``reversed``, ``unicode_tags``),
    possibly chained (``base64+rot13``).
    """

    method: str
    text: str


@dataclass(frozen=True, slots=True)
class NormalizedText:
    """The result of normalising one message.

    Attributes:
        canonical: the canonical view's text (also ``views[0].text``).
        views: every view to scan, canonical first; decoded payloads follow.
        techniques: obfuscation tactics seen, e.g. ``obfuscation:base64``,
            ``obfuscation:zero_width``, ``obfuscation:homoglyph``.
        truncated: True when the input was longer than the configured cap and only the
            first part was normalised (the guard decides what to do with such input).
    """

    canonical: str
    views: tuple[View, ...]
    techniques: tuple[str, ...] = ()
    truncated: bool = False

    @property
    def decoded(self) -> tuple[View, ...]:
        """The views that came from a decoder or from undoing leetspeak (not canonical)."""
        return self.views[1:]
