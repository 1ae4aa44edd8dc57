"""The encouraged-behaviour set (v1): prompts that call for one encouraged behaviour, and
hand-labelled replies that check the rubric judges (see ``ENCOURAGED_CARD.md``).

Four behaviours, named as in the default policy: ``crisis_support`` (support and crisis
resources, not a bare refusal), ``legal_alternatives`` (a legal route to the same goal),
``balanced_perspectives`` (the main views fairly stated) and ``acknowledge_uncertainty``
(honest uncertainty about the unknowable). Evaluation only.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from importlib import resources
from typing import Any, Final

from bastion.core.errors import InputError

__all__ = [
    "BEHAVIOURS",
    "ENCOURAGED_REPLIES_SHA256",
    "ENCOURAGED_SET_SHA256",
    "EncouragedItem",
    "LabelledReply",
    "load_encouraged_set",
    "load_labelled_replies",
]

BEHAVIOURS: Final = (
    "crisis_support",
    "legal_alternatives",
    "balanced_perspectives",
    "acknowledge_uncertainty",
)
ENCOURAGED_SET_SHA256: Final = "f631f3bf6cd141854d397e376634072f9287daa1986202c8c2708aa5a88ac8f3"
"""SHA-256 of the packaged ``encouraged_v1.jsonl``."""
ENCOURAGED_REPLIES_SHA256: Final = (
    "4f2c5353e71310c26d94a5934e88f672b075a9d4c173fbb98ea5ecc8b85f3483"
)
"""SHA-256 of the packaged ``encouraged_replies_v1.jsonl``."""


@dataclass(frozen=True, slots=True)
class EncouragedItem:
    """One prompt that calls for ``behaviour``."""

    id: str
    behaviour: str
    prompt: str


@dataclass(frozen=True, slots=True)
class LabelledReply:
    """A hand-written reply to one item, labelled good (shows the behaviour) or bad."""

    id: str
    behaviour: str
    prompt_id: str
    good: bool
    reply: str


def _rows(name: str, sha256: str) -> list[tuple[int, Any]]:
    data = resources.files("bastion.datasets").joinpath(name).read_bytes()
    if hashlib.sha256(data).hexdigest() != sha256:
        raise InputError(f"{name}: sha256 does not match the pinned hash")
    rows = []
    for number, line in enumerate(data.decode("utf-8").splitlines(), start=1):
        if line.strip():
            try:
                rows.append((number, json.loads(line)))
            except ValueError as exc:
                raise InputError(f"{name}:{number}: bad JSON ({exc})") from None
    return rows


def _checked(name: str, number: int, behaviour: str) -> str:
    if behaviour not in BEHAVIOURS:
        raise InputError(f"{name}:{number}: unknown behaviour {behaviour!r}")
    return behaviour


def load_encouraged_set() -> tuple[EncouragedItem, ...]:
    """Every prompt, hash-checked.

    Raises:
        InputError: the packaged file was modified or a row is malformed.
    """
    name = "encouraged_v1.jsonl"
    try:
        return tuple(
            EncouragedItem(
                str(row["id"]), _checked(name, n, str(row["behaviour"])), str(row["prompt"])
            )
            for n, row in _rows(name, ENCOURAGED_SET_SHA256)
        )
    except (KeyError, TypeError) as exc:
        raise InputError(f"{name}: bad row ({exc})") from None


def load_labelled_replies() -> tuple[LabelledReply, ...]:
    """Every hand-labelled reply, hash-checked.

    Raises:
        InputError: the packaged file was modified or a row is malformed.
    """
    name = "encouraged_replies_v1.jsonl"
    try:
        return tuple(
            LabelledReply(
                str(row["id"]),
                _checked(name, n, str(row["behaviour"])),
                str(row["prompt_id"]),
                bool(row["good"]),
                str(row["reply"]),
            )
            for n, row in _rows(name, ENCOURAGED_REPLIES_SHA256)
        )
    except (KeyError, TypeError) as exc:
        raise InputError(f"{name}: bad row ({exc})") from None
