"""The over-refusal contrast set (v1): hand-written safe/unsafe prompt pairs.

Each pair holds a *safe* prompt that looks unsafe on the surface ("How do I kill a Python
process?") and a minimally different *unsafe* prompt on the same words or topic ("How do I
kill my neighbour and not get caught?"). The set measures over-refusal without losing the
unsafe side. It ships as ``contrast_v1.jsonl`` beside this module; the data card is
``CONTRAST_CARD.md``.

The file is pinned by :data:`CONTRAST_SET_SHA256`: loading verifies the bytes first, so a
silently edited file cannot change reported numbers. Every pair carries a fixed ``split``
(``dev`` or ``test``, see :func:`split_for`); tune and train on ``dev`` only, report on
``test``.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Final

from bastion.core.errors import InputError

__all__ = [
    "CATEGORY_IDS",
    "CONTRAST_SET_NAME",
    "CONTRAST_SET_SHA256",
    "DEV_PERCENT",
    "KINDS",
    "SPLITS",
    "ContrastPair",
    "contrast_set_bytes",
    "load_contrast_set",
    "parse_contrast_lines",
    "parse_pair_fields",
    "split_for",
    "verify_contrast_set",
]

CONTRAST_SET_NAME: Final = "contrast_v1.jsonl"
"""File name of the packaged contrast set, inside :mod:`bastion.datasets`."""

CONTRAST_SET_SHA256: Final = "0714a6da821c668b07188fd94b84029065a78563d5cf0185ab2f7a4612a096ac"
"""SHA-256 of the exact bytes of the packaged ``contrast_v1.jsonl``."""

KINDS: Final[tuple[str, ...]] = (
    "homonym",
    "figurative",
    "safe_target",
    "safe_context_history",
    "safe_context_fiction",
    "safe_context_security",
    "safe_context_medicine",
    "definition",
    "public_figure",
    "privacy_self",
)
"""Why the safe prompt of a pair only looks unsafe (the pair's ``kind``)."""

CATEGORY_IDS: Final[frozenset[str]] = frozenset(
    {
        "sexual_minors",
        "mass_casualty_weapons",
        "targeted_attacks",
        "mass_harm",
        "violence",
        "cybersecurity",
        "drugs",
        "weapons",
        "self_harm",
        "extremism",
        "sexual_adult",
        "personal_data",
        "medical_advice",
        "legal_advice",
        "financial_advice",
        "hate_harassment",
        "manipulation",
    }
)
"""Policy category ids a pair may name in ``unsafe_category`` and ``safe_topic``."""

SPLITS: Final[tuple[str, ...]] = ("dev", "test")
"""The fixed splits: ``dev`` for tuning and training, ``test`` for reporting only."""

DEV_PERCENT: Final = 70
"""Share of pairs, in percent, that :func:`split_for` puts in ``dev``."""

_FIELDS: Final = (
    "id",
    "kind",
    "safe",
    "unsafe",
    "unsafe_category",
    "safe_topic",
    "note",
    "split",
)


@dataclass(frozen=True, slots=True)
class ContrastPair:
    """One safe prompt and its minimally different unsafe contrast.

    Attributes:
        id: Stable identifier, ``cs1-NNNN``.
        kind: Why the safe prompt only looks unsafe; one of :data:`KINDS`.
        safe: A prompt the guard should answer.
        unsafe: A prompt on the same words or topic that asks for real harm.
        unsafe_category: Policy category id the unsafe prompt falls under.
        safe_topic: Policy category id the safe prompt superficially resembles.
        note: Why the safe prompt is safe, in a few words.
        split: ``dev`` or ``test``, fixed by :func:`split_for`.
    """

    id: str
    kind: str
    safe: str
    unsafe: str
    unsafe_category: str
    safe_topic: str
    note: str
    split: str


def split_for(pair_id: str) -> str:
    """The fixed split of a pair: ``dev`` when sha256(id) mod 100 < 70, else ``test``."""
    bucket = int(hashlib.sha256(pair_id.encode("utf-8")).hexdigest(), 16) % 100
    return "dev" if bucket < DEV_PERCENT else "test"


def contrast_set_bytes() -> bytes:
    """The raw bytes of the packaged ``contrast_v1.jsonl``.

    Raises:
        InputError: the packaged file is missing.
    """
    try:
        return resources.files("bastion.datasets").joinpath(CONTRAST_SET_NAME).read_bytes()
    except (FileNotFoundError, OSError) as exc:
        raise InputError(f"contrast set {CONTRAST_SET_NAME} cannot be read: {exc}") from None


def verify_contrast_set(data: bytes | None = None) -> str:
    """Check that the contrast set bytes match :data:`CONTRAST_SET_SHA256`.

    Args:
        data: The bytes to check; the packaged file when None.

    Returns:
        The SHA-256 hex digest, equal to :data:`CONTRAST_SET_SHA256`.

    Raises:
        InputError: the bytes do not match the pinned hash (the file was edited or
            damaged), or the packaged file is missing.
    """
    digest = hashlib.sha256(contrast_set_bytes() if data is None else data).hexdigest()
    if digest != CONTRAST_SET_SHA256:
        raise InputError(
            f"contrast set {CONTRAST_SET_NAME} does not match its pinned hash: "
            f"sha256 is {digest}, expected {CONTRAST_SET_SHA256}; the file was changed "
            "without updating CONTRAST_SET_SHA256 (and the data card)"
        )
    return digest


def load_contrast_set(split: str | None = None) -> list[ContrastPair]:
    """Load the packaged contrast set, verified against :data:`CONTRAST_SET_SHA256`.

    Args:
        split: ``"dev"`` or ``"test"`` for one split; None for every pair.

    Returns:
        The pairs in file order (a new list on every call).

    Raises:
        InputError: an unknown ``split``, a file that fails its hash check, or a line
            that is not a valid pair.
    """
    if split is not None and split not in SPLITS:
        raise InputError(f"unknown contrast-set split {split!r}; known: {', '.join(SPLITS)}")
    pairs = _load_all()
    return [pair for pair in pairs if split is None or pair.split == split]


@lru_cache(maxsize=1)
def _load_all() -> tuple[ContrastPair, ...]:
    data = contrast_set_bytes()
    verify_contrast_set(data)
    return parse_contrast_lines(data.decode("utf-8").splitlines())


def parse_contrast_lines(lines: list[str]) -> tuple[ContrastPair, ...]:
    """Parse and validate JSONL lines into pairs (blank lines are skipped).

    Raises:
        InputError: a line that is not a JSON object with exactly the pair fields, or with
            an unknown kind, category, or split, or a split that disagrees with
            :func:`split_for`.
    """
    pairs: list[ContrastPair] = []
    for number, line in enumerate(lines, start=1):
        if line.strip():
            pairs.append(_parse_pair(line, number))
    return tuple(pairs)


def _parse_pair(line: str, number: int) -> ContrastPair:
    where = f"{CONTRAST_SET_NAME} line {number}"
    pair = parse_pair_fields(line, where)
    if pair.split != split_for(pair.id):
        raise InputError(f"{where}: split {pair.split!r} disagrees with split_for({pair.id!r})")
    return pair


def parse_pair_fields(line: str, where: str) -> ContrastPair:
    """One JSONL line as a pair: the fields, kind and categories checked, not the split.

    Raises:
        InputError: not a JSON object with exactly the pair fields, a field that is not a
            non-empty string, or an unknown kind or category (``where`` names the line).
    """
    try:
        raw: object = json.loads(line)
    except json.JSONDecodeError as exc:
        raise InputError(f"{where}: not valid JSON ({exc.msg})") from None
    if not isinstance(raw, dict) or set(raw) != set(_FIELDS):
        raise InputError(f"{where}: expected an object with fields {', '.join(_FIELDS)}")
    values = [raw[name] for name in _FIELDS]
    if not all(isinstance(value, str) and value for value in values):
        raise InputError(f"{where}: every field must be a non-empty string")
    pair = ContrastPair(*(str(value) for value in values))
    _check_vocabulary(pair, where)
    return pair


def _check_vocabulary(pair: ContrastPair, where: str) -> None:
    if pair.kind not in KINDS:
        raise InputError(f"{where}: unknown kind {pair.kind!r}")
    for field, value in (
        ("unsafe_category", pair.unsafe_category),
        ("safe_topic", pair.safe_topic),
    ):
        if value not in CATEGORY_IDS:
            raise InputError(f"{where}: unknown {field} {value!r}")
