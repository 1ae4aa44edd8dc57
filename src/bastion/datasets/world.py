"""The frozen "world" dev set (v1): hand-written prompts in five languages.

400 prompts, 80 per language (en, fr, de, es, it), written by the project in one session in
styles no training source has (slang, typos, no punctuation, indirect asks, role-play, the
unskilled and the skilled asker). Per language about 35 rows are harmful (across the
policy's categories), 30 benign but risky-looking (history, fiction, safety, medical and
security questions) and 15 everyday chit-chat. Every row carries the action the default
policy gives it in context ``general`` (``expected``). See ``WORLD_DEV_CARD.md``.

The set is for choosing models, thresholds and data across languages; it is never trained
on. The file is pinned by :data:`WORLD_DEV_SET_SHA256`: loading verifies the bytes first,
so a silently edited file cannot change reported numbers::

    from bastion.datasets import load_world_dev_set

    rows = load_world_dev_set("fr")
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Final

from bastion.core.errors import InputError
from bastion.core.types import Action, Intent

__all__ = [
    "WORLD_DEV_LABELS",
    "WORLD_DEV_LANGUAGES",
    "WORLD_DEV_SET_NAME",
    "WORLD_DEV_SET_SHA256",
    "WORLD_DEV_STYLES",
    "WorldPrompt",
    "load_world_dev_set",
    "parse_world_lines",
    "verify_world_dev_set",
    "world_dev_set_bytes",
]

WORLD_DEV_SET_NAME: Final = "world_dev_v1.jsonl"
"""File name of the packaged world dev set, inside :mod:`bastion.datasets`."""

WORLD_DEV_SET_SHA256: Final = "76eb1a4e11e8eb38a33bf2c5a27c662a7a0b7c638ef22dcde4883f6ad452de62"
"""SHA-256 of the exact bytes of the packaged ``world_dev_v1.jsonl``."""

WORLD_DEV_LANGUAGES: Final[tuple[str, ...]] = ("en", "fr", "de", "es", "it")
"""The languages of the set, in file order."""

WORLD_DEV_LABELS: Final[tuple[str, ...]] = ("harmful", "benign")
"""``harmful``: the guard must not give a plain ``allow``; ``benign``: it should answer."""

WORLD_DEV_STYLES: Final[tuple[str, ...]] = (
    "plain",
    "unskilled",
    "skilled",
    "indirect",
    "slang",
    "typos",
    "no_punctuation",
    "roleplay",
)
"""How a prompt is written (the row's ``style``)."""

_FIELDS: Final = ("id", "language", "text", "label", "category", "intent", "style", "expected")
_INTENTS: Final = frozenset(i.value for i in Intent)
_ACTIONS: Final = frozenset(a.value for a in Action)


@dataclass(frozen=True, slots=True)
class WorldPrompt:
    """One prompt of the world dev set.

    Attributes:
        id: Stable identifier, ``<language>-NNN``.
        language: One of :data:`WORLD_DEV_LANGUAGES`.
        text: The prompt as a user would type it.
        label: ``harmful`` or ``benign``.
        category: Policy category the prompt falls under (harmful rows) or looks like
            (benign rows); None for everyday chit-chat.
        intent: An :class:`~bastion.core.types.Intent` value.
        style: One of :data:`WORLD_DEV_STYLES`.
        expected: The action the default policy gives in context ``general``.
    """

    id: str
    language: str
    text: str
    label: str
    category: str | None
    intent: str
    style: str
    expected: str

    @property
    def group(self) -> str:
        """``harmful``, ``borderline`` (benign with a category) or ``everyday``."""
        if self.label == "harmful":
            return "harmful"
        return "everyday" if self.category is None else "borderline"


def world_dev_set_bytes() -> bytes:
    """The raw bytes of the packaged ``world_dev_v1.jsonl``.

    Raises:
        InputError: the packaged file is missing.
    """
    try:
        return resources.files("bastion.datasets").joinpath(WORLD_DEV_SET_NAME).read_bytes()
    except OSError as exc:
        raise InputError(f"world dev set {WORLD_DEV_SET_NAME} cannot be read: {exc}") from None


def verify_world_dev_set(data: bytes | None = None) -> str:
    """Check that the set's bytes match :data:`WORLD_DEV_SET_SHA256`.

    Args:
        data: The bytes to check; the packaged file when None.

    Returns:
        The SHA-256 hex digest, equal to :data:`WORLD_DEV_SET_SHA256`.

    Raises:
        InputError: the bytes do not match the pinned hash, or the file is missing.
    """
    digest = hashlib.sha256(world_dev_set_bytes() if data is None else data).hexdigest()
    if digest != WORLD_DEV_SET_SHA256:
        raise InputError(
            f"world dev set {WORLD_DEV_SET_NAME} does not match its pinned hash: sha256 is "
            f"{digest}, expected {WORLD_DEV_SET_SHA256}; the frozen set was changed (a new "
            "version needs a new file, hash and card)"
        )
    return digest


def load_world_dev_set(language: str | None = None) -> list[WorldPrompt]:
    """Load the packaged world dev set, verified against :data:`WORLD_DEV_SET_SHA256`.

    Args:
        language: One of :data:`WORLD_DEV_LANGUAGES`; None for every row.

    Returns:
        The rows in file order (a new list on every call).

    Raises:
        InputError: an unknown ``language``, a file that fails its hash check, or a line
            that is not a valid row.
    """
    if language is not None and language not in WORLD_DEV_LANGUAGES:
        known = ", ".join(WORLD_DEV_LANGUAGES)
        raise InputError(f"unknown world dev set language {language!r}; known: {known}")
    return [row for row in _load_all() if language is None or row.language == language]


@lru_cache(maxsize=1)
def _load_all() -> tuple[WorldPrompt, ...]:
    data = world_dev_set_bytes()
    verify_world_dev_set(data)
    return parse_world_lines(data.decode("utf-8").splitlines())


def parse_world_lines(lines: list[str]) -> tuple[WorldPrompt, ...]:
    """Parse and validate JSONL lines into rows (blank lines are skipped).

    Raises:
        InputError: a line that is not a JSON object with exactly the row fields, or with
            a value outside its vocabulary (language, label, intent, style, expected).
    """
    return tuple(
        _parse_row(line, f"{WORLD_DEV_SET_NAME} line {number}")
        for number, line in enumerate(lines, start=1)
        if line.strip()
    )


def _parse_row(line: str, where: str) -> WorldPrompt:
    try:
        raw: object = json.loads(line)
    except json.JSONDecodeError as exc:
        raise InputError(f"{where}: not valid JSON ({exc.msg})") from None
    if not isinstance(raw, dict) or set(raw) != set(_FIELDS):
        raise InputError(f"{where}: expected an object with fields {', '.join(_FIELDS)}")
    category = raw["category"]
    strings = [raw[name] for name in _FIELDS if name != "category"]
    if not all(isinstance(v, str) and v for v in strings) or not (
        category is None or (isinstance(category, str) and category)
    ):
        raise InputError(f"{where}: fields must be non-empty strings (category may be null)")
    row = WorldPrompt(**{name: raw[name] for name in _FIELDS})
    _check_vocabulary(row, where)
    return row


def _check_vocabulary(row: WorldPrompt, where: str) -> None:
    checks = (
        ("language", row.language, WORLD_DEV_LANGUAGES),
        ("label", row.label, WORLD_DEV_LABELS),
        ("intent", row.intent, _INTENTS),
        ("style", row.style, WORLD_DEV_STYLES),
        ("expected", row.expected, _ACTIONS),
    )
    for name, value, known in checks:
        if value not in known:
            raise InputError(f"{where}: unknown {name} {value!r}")
    if not row.id.startswith(f"{row.language}-"):
        raise InputError(f"{where}: id {row.id!r} does not start with its language")
