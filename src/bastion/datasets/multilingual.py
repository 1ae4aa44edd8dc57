"""The project's multilingual evaluation set (report only; never trained or tuned on).

20 unsafe and 20 safe requests written in English and translated by the project into
French, German, Spanish, Italian and Portuguese (240 rows); see ``MULTILINGUAL_CARD.md``.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from importlib import resources
from typing import Final

from bastion.core.errors import InputError

__all__ = [
    "LANGUAGES",
    "MULTILINGUAL_SET_SHA256",
    "MultilingualPrompt",
    "load_multilingual_set",
]

LANGUAGES: Final = ("en", "fr", "de", "es", "it", "pt")
MULTILINGUAL_SET_SHA256: Final = "11a76e176e27756031efdb81055a497880c0554b11fd8aca1a41a840b092998d"
_FILE: Final = "multilingual_v1.jsonl"


@dataclass(frozen=True, slots=True)
class MultilingualPrompt:
    """One prompt in one language; ``item`` links the translations of one request."""

    id: str
    item: str
    lang: str
    label: int
    category: str | None
    text: str


def load_multilingual_set() -> tuple[MultilingualPrompt, ...]:
    """All 240 prompts, hash-checked.

    Raises:
        InputError: when the packaged file was modified.
    """
    data = resources.files("bastion.datasets").joinpath(_FILE).read_bytes()
    if hashlib.sha256(data).hexdigest() != MULTILINGUAL_SET_SHA256:
        raise InputError(f"{_FILE}: sha256 does not match the pinned hash")
    rows = [json.loads(line) for line in data.decode("utf-8").splitlines() if line.strip()]
    return tuple(MultilingualPrompt(**row) for row in rows)
