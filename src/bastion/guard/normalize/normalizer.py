"""STUB: to be implemented."""

from __future__ import annotations

import unicodedata

from pydantic import BaseModel, ConfigDict

from bastion.core.text import NormalizedText, View

__all__ = ["NormalizeConfig", "normalize"]


class NormalizeConfig(BaseModel):
    """Limits and switches for normalisation."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    max_chars: int = 200_000
    max_depth: int = 2


def normalize(text: str, config: NormalizeConfig | None = None) -> NormalizedText:
    """Stub normaliser."""
    cfg = config or NormalizeConfig()
    canon = unicodedata.normalize("NFKC", text[: cfg.max_chars]).casefold()
    return NormalizedText(canon, (View("canonical", canon),), (), len(text) > cfg.max_chars)
