"""The consistency set (v1): one intent in many forms must get one decision.

156 intent groups (82 unsafe, 74 safe), each in eight forms: ``base``, ``paraphrase``,
``past_tense``, ``formatting``, ``politeness``, ``fiction`` (fiction or hypothetical
wrapper), ``language`` (French, German, Spanish, Italian or Portuguese) and
``split_turns`` (the goal in one turn, "how would that work?" in the next). Project
authored, report only, never trained or tuned on; see ``CONSISTENCY_CARD.md``.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from importlib import resources
from typing import Any, Final

from bastion.core.errors import InputError
from bastion.core.types import Message, as_messages

__all__ = [
    "CONSISTENCY_SET_SHA256",
    "FORMS",
    "ConsistencyForm",
    "load_consistency_set",
    "parse_consistency_lines",
]

CONSISTENCY_SET_SHA256: Final = "372925992e54921e7bb3c283d05cc9834ad87538cbc2fba29b4ad6c6b0f378bd"
"""SHA-256 of the exact bytes of the packaged ``consistency_v1.jsonl``."""

FORMS: Final = (
    "base",
    "paraphrase",
    "past_tense",
    "formatting",
    "politeness",
    "fiction",
    "language",
    "split_turns",
)
_FILE: Final = "consistency_v1.jsonl"
_LABELS: Final = ("safe", "unsafe")


@dataclass(frozen=True, slots=True)
class ConsistencyForm:
    """One form of one intent.

    Attributes:
        id: ``<group>-<form>``.
        group: the intent group id (``cv1-u001`` unsafe, ``cv1-s001`` safe).
        label: ``safe`` or ``unsafe`` (the whole group shares it).
        category: the policy category the intent belongs to or resembles (``none``).
        form: one of :data:`FORMS`.
        lang: language code of the user turns.
        messages: the conversation (one turn, or three for ``split_turns``).
    """

    id: str
    group: str
    label: str
    category: str
    form: str
    lang: str
    messages: tuple[Message, ...]


def load_consistency_set() -> tuple[ConsistencyForm, ...]:
    """Every form of every group, hash-checked.

    Raises:
        InputError: the packaged file was modified or a row is malformed.
    """
    data = resources.files("bastion.datasets").joinpath(_FILE).read_bytes()
    if hashlib.sha256(data).hexdigest() != CONSISTENCY_SET_SHA256:
        raise InputError(f"{_FILE}: sha256 does not match the pinned hash")
    return parse_consistency_lines(data.decode("utf-8").splitlines())


def parse_consistency_lines(lines: list[str]) -> tuple[ConsistencyForm, ...]:
    """Parse JSONL rows (blank lines skipped).

    Raises:
        InputError: a row is not JSON or misses a field, names for line number.
    """
    out: list[ConsistencyForm] = []
    for number, line in enumerate(lines, start=1):
        if line.strip():
            out.append(_parse(line, number))
    return tuple(out)


def _parse(line: str, number: int) -> ConsistencyForm:
    try:
        row: Any = json.loads(line)
        form = ConsistencyForm(
            id=str(row["id"]),
            group=str(row["group"]),
            label=str(row["label"]),
            category=str(row["category"]),
            form=str(row["form"]),
            lang=str(row["lang"]),
            messages=as_messages(row["messages"]),
        )
    except (ValueError, KeyError, TypeError, InputError) as exc:
        raise InputError(f"{_FILE}:{number}: bad row ({exc})") from None
    if form.label not in _LABELS or form.form not in FORMS or not form.messages:
        raise InputError(f"{_FILE}:{number}: unknown label or form, or no messages")
    return form
