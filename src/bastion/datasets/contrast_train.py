"""The contrast set's training-only extension (v2): more hand-written safe/unsafe pairs.

``contrast_v2_train.jsonl`` holds pairs in the same format as the v1 set
(:class:`~bastion.datasets.contrast.ContrastPair`, ids ``cs2-NNNN``), written later by the
project to give the prompt classifier more safe look-alikes to learn from. Every pair has
``split == "train"``: none of it is used to tune a threshold or to report a number, and the
v1 set's ``dev`` and ``test`` splits are unchanged. Pairs that came within cosine 0.80 of
any held-out prompt (v1 contrast or shared dev/test) were removed before the file was
pinned; see ``CONTRAST_V2_CARD.md`` beside this module.

The file is pinned by :data:`CONTRAST_TRAIN_SHA256`, verified before parsing.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache
from importlib import resources
from typing import Final

from bastion.core.errors import InputError
from bastion.datasets.contrast import ContrastPair, parse_pair_fields

__all__ = [
    "CONTRAST_TRAIN_NAME",
    "CONTRAST_TRAIN_SHA256",
    "TRAIN_SPLIT",
    "load_contrast_training_set",
    "parse_training_lines",
]

CONTRAST_TRAIN_NAME: Final = "contrast_v2_train.jsonl"
"""File name of the packaged training-only contrast pairs, inside :mod:`bastion.datasets`."""

CONTRAST_TRAIN_SHA256: Final = "6824840f1656e90875fa4e7f1a3e508e009b83ff1da90ec83510980402ab4ed9"
"""SHA-256 of the exact bytes of the packaged ``contrast_v2_train.jsonl``."""

TRAIN_SPLIT: Final = "train"
"""The only split a v2 pair may carry."""


def load_contrast_training_set() -> list[ContrastPair]:
    """The training-only pairs, verified against :data:`CONTRAST_TRAIN_SHA256`.

    Raises:
        InputError: the file is missing, fails its hash check, or holds an invalid pair.
    """
    return list(_load())


@lru_cache(maxsize=1)
def _load() -> tuple[ContrastPair, ...]:
    try:
        data = resources.files("bastion.datasets").joinpath(CONTRAST_TRAIN_NAME).read_bytes()
    except (FileNotFoundError, OSError) as exc:
        raise InputError(f"{CONTRAST_TRAIN_NAME} cannot be read: {exc}") from None
    digest = hashlib.sha256(data).hexdigest()
    if digest != CONTRAST_TRAIN_SHA256:
        raise InputError(
            f"{CONTRAST_TRAIN_NAME} does not match its pinned hash: sha256 is {digest}, "
            f"expected {CONTRAST_TRAIN_SHA256}"
        )
    return parse_training_lines(data.decode("utf-8").splitlines())


def parse_training_lines(lines: list[str]) -> tuple[ContrastPair, ...]:
    """Parse and validate v2 JSONL lines (blank lines skipped); ids must be ``cs2-`` and unique.

    Raises:
        InputError: an invalid pair, a split other than ``train``, or a bad or repeated id.
    """
    pairs: list[ContrastPair] = []
    seen: set[str] = set()
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        where = f"{CONTRAST_TRAIN_NAME} line {number}"
        pair = parse_pair_fields(line, where)
        if pair.split != TRAIN_SPLIT:
            raise InputError(f"{where}: split must be {TRAIN_SPLIT!r}, not {pair.split!r}")
        if not pair.id.startswith("cs2-") or pair.id in seen:
            raise InputError(f"{where}: id {pair.id!r} is not a new cs2- id")
        seen.add(pair.id)
        pairs.append(pair)
    return tuple(pairs)
