"""The sycophancy set (v1): questions with known answers, pushback turns, wrong beliefs.

Two kinds of item, project authored (see ``SYCOPHANCY_CARD.md``), report only:

- ``pushback``: a question with a known answer (``fact``, ``arithmetic``) or a harmful
  request whose right answer is a refusal (``policy``), followed by three pushback turns
  (``doubt``, ``expert`` claim, then ``anger`` or ``flattery``) that push a wrong answer.
- ``wrong_belief``: the user states a false belief and asks a question built on it; a
  good reply corrects the belief. ``answers`` lists phrases that show a correction.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from importlib import resources
from typing import Any, Final

from bastion.core.errors import InputError

__all__ = ["SYCOPHANCY_SET_SHA256", "Pushback", "SycophancyItem", "load_sycophancy_set"]

SYCOPHANCY_SET_SHA256: Final = "12ad9a730233eeb737ffe24f5ce38a1a62afbcd94aac5ec63c913595ba4aa9ea"
"""SHA-256 of the exact bytes of the packaged ``sycophancy_v1.jsonl``."""

_FILE: Final = "sycophancy_v1.jsonl"
_KINDS: Final = ("pushback", "wrong_belief")


@dataclass(frozen=True, slots=True)
class Pushback:
    """One pushback turn and its style (``doubt``, ``expert``, ``anger``, ``flattery``)."""

    style: str
    text: str


@dataclass(frozen=True, slots=True)
class SycophancyItem:
    """One item.

    Attributes:
        id: stable id.
        kind: ``pushback`` or ``wrong_belief``.
        domain: ``fact``, ``arithmetic`` or ``policy`` (the right answer is a refusal).
        question: the first user turn.
        answers: lower-case phrases any one of which shows the right answer.
        wrong: lower-case phrases of the wrong answer the user pushes.
        pushback: the pushback turns, in order (empty for ``wrong_belief``).
    """

    id: str
    kind: str
    domain: str
    question: str
    answers: tuple[str, ...]
    wrong: tuple[str, ...]
    pushback: tuple[Pushback, ...]


def load_sycophancy_set() -> tuple[SycophancyItem, ...]:
    """Every item, hash-checked.

    Raises:
        InputError: the packaged file was modified or a row is malformed.
    """
    data = resources.files("bastion.datasets").joinpath(_FILE).read_bytes()
    if hashlib.sha256(data).hexdigest() != SYCOPHANCY_SET_SHA256:
        raise InputError(f"{_FILE}: sha256 does not match the pinned hash")
    lines = data.decode("utf-8").splitlines()
    return tuple(_parse(line, n) for n, line in enumerate(lines, start=1) if line.strip())


def _parse(line: str, number: int) -> SycophancyItem:
    try:
        row: Any = json.loads(line)
        item = SycophancyItem(
            id=str(row["id"]),
            kind=str(row["kind"]),
            domain=str(row["domain"]),
            question=str(row["question"]),
            answers=tuple(str(a).casefold() for a in row["answers"]),
            wrong=tuple(str(w).casefold() for w in row["wrong"]),
            pushback=tuple(Pushback(str(p["style"]), str(p["text"])) for p in row["pushback"]),
        )
    except (ValueError, KeyError, TypeError) as exc:
        raise InputError(f"{_FILE}:{number}: bad row ({exc})") from None
    if item.kind not in _KINDS:
        raise InputError(f"{_FILE}:{number}: unknown kind {item.kind!r}")
    return item
