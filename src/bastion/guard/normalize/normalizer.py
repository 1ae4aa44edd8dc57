"""Tier-0 normalisation: one canonical view of a message plus the payloads it hides.

:func:`normalize` never raises on a ``str`` and runs in time linear in the (capped) input.
A benign prompt gets exactly one view, the canonical one; decoded views appear only when a
cheap test finds an encoding (base64, hex, percent-encoding, Unicode tags) or a transform
(leetspeak, rot13, reversal) that fits. Decoded payloads are normalised in turn, up to
``max_depth`` layers, and chained views are named outermost first (``base64+rot13``).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from pydantic import BaseModel, ConfigDict, Field

from bastion.core.text import NormalizedText, View
from bastion.guard.normalize._decoders import base64_payloads, hex_payloads, url_payload
from bastion.guard.normalize._transforms import english_views, leet_view
from bastion.guard.normalize._unicode import canonicalize, decode_tags, scrub

__all__ = ["NormalizeConfig", "normalize"]

_TECHNIQUES = {
    "unicode_tags": "obfuscation:unicode_tags",
    "base64": "obfuscation:base64",
    "hex": "obfuscation:hex",
    "url": "obfuscation:url",
    "leet": "obfuscation:leetspeak",
    "rot13": "obfuscation:rot13",
    "reversed": "obfuscation:reversed",
}


class NormalizeConfig(BaseModel):
    """Limits for normalisation.

    Attributes:
        max_chars: longer input is cut to this many characters and marked ``truncated``.
        max_depth: how many encoding layers to peel (2 finds ``base64+rot13``); 0 turns
            decoded views off.
        max_views: the most views returned, the canonical one included.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    max_chars: int = Field(default=200_000, ge=1)
    max_depth: int = Field(default=2, ge=0, le=4)
    max_views: int = Field(default=8, ge=1, le=64)


# Frozen, so sharing one instance is safe; building a pydantic model per call is not free.
_DEFAULT_CONFIG = NormalizeConfig()


@dataclass(frozen=True, slots=True)
class _Level:
    """One text at one decoding depth: as given, prepared for decoders, and canonical."""

    raw: str
    prepared: str
    canonical: str


@dataclass(slots=True)
class _Views:
    """The views and techniques collected for one call (local, never shared)."""

    limit: int
    views: list[View]
    techniques: set[str] = field(default_factory=set)

    def full(self) -> bool:
        return len(self.views) >= self.limit

    def add(self, method: str, text: str) -> bool:
        """Record the technique; keep the view when it is new, non-empty and fits."""
        self.techniques.add(_TECHNIQUES[method.rpartition("+")[2]])
        if not text or self.full() or any(view.text == text for view in self.views):
            return False
        self.views.append(View(method, text))
        return True


def normalize(text: str, config: NormalizeConfig | None = None) -> NormalizedText:
    """Normalise one message for the rule layers.

    Args:
        text: any string: lone surrogates, controls and hostile Unicode are handled.
        config: limits; the defaults when None.

    Returns:
        The canonical text, every view to scan (canonical first), the obfuscation
        techniques seen, and whether the input was cut to ``max_chars``.
    """
    cfg = _DEFAULT_CONFIG if config is None else config
    truncated = len(text) > cfg.max_chars
    clean = scrub(text[: cfg.max_chars] if truncated else text)
    canon = canonicalize(clean)
    canonical = canon.text
    if len(canonical) > cfg.max_chars:
        # NFKC can expand one character up to 18-fold; keep downstream work bounded.
        canonical, truncated = canonical[: cfg.max_chars].rstrip(), True
    found = _Views(cfg.max_views, [View("canonical", canonical)], set(canon.techniques))
    _expand(_Level(clean, canon.prepared, canonical), "", 0, found, cfg.max_depth)
    return NormalizedText(
        canonical=canonical,
        views=tuple(found.views),
        techniques=tuple(sorted(found.techniques)),
        truncated=truncated,
    )


def _expand(level: _Level, prefix: str, depth: int, found: _Views, max_depth: int) -> None:
    if depth >= max_depth or found.full():
        return
    for method, text in _transformed(level):
        found.add(prefix + method, text)
    for method, payload in _decoded(level):
        if found.full():
            return
        inner = canonicalize(scrub(payload))
        found.techniques.update(inner.techniques)
        if found.add(prefix + method, inner.text):
            nested = _Level(payload, inner.prepared, inner.text)
            _expand(nested, f"{prefix}{method}+", depth + 1, found, max_depth)


def _transformed(level: _Level) -> list[tuple[str, str]]:
    leet = leet_view(level.prepared, level.canonical)
    views = english_views(level.canonical)
    return [("leet", leet), *views] if leet is not None else views


def _decoded(level: _Level) -> Iterator[tuple[str, str]]:
    # A generator, so decoders after the view limit is reached never run.
    tags = decode_tags(level.raw)
    if tags:
        yield "unicode_tags", tags
    for payload in base64_payloads(level.prepared):
        yield "base64", payload
    for payload in hex_payloads(level.prepared):
        yield "hex", payload
    url = url_payload(level.prepared)
    if url is not None:
        yield "url", url
