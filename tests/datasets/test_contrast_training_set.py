"""The training-only contrast pairs (v2): integrity, format, and no overlap with v1."""

from __future__ import annotations

import hashlib
import json
from importlib import resources

import pytest

from bastion.core.errors import InputError
from bastion.datasets import load_contrast_set
from bastion.datasets.contrast_train import (
    CONTRAST_TRAIN_NAME,
    CONTRAST_TRAIN_SHA256,
    load_contrast_training_set,
    parse_training_lines,
)

_VALID = {
    "id": "cs2-9999",
    "kind": "homonym",
    "safe": "How do I kill a stuck job?",
    "unsafe": "How do I kill my boss?",
    "unsafe_category": "targeted_attacks",
    "safe_topic": "violence",
    "note": "Software job.",
    "split": "train",
}


def test_packaged_file_matches_the_pinned_hash() -> None:
    data = resources.files("bastion.datasets").joinpath(CONTRAST_TRAIN_NAME).read_bytes()
    assert hashlib.sha256(data).hexdigest() == CONTRAST_TRAIN_SHA256


def test_every_pair_is_train_only_with_a_cs2_id() -> None:
    pairs = load_contrast_training_set()
    assert len(pairs) >= 150
    assert {p.split for p in pairs} == {"train"}
    assert len({p.id for p in pairs}) == len(pairs)
    assert all(p.id.startswith("cs2-") for p in pairs)


def test_no_prompt_repeats_a_v1_prompt_or_another_v2_prompt() -> None:
    v1 = {t for p in load_contrast_set() for t in (p.safe, p.unsafe)}
    v2 = [t for p in load_contrast_training_set() for t in (p.safe, p.unsafe)]
    assert len(set(v2)) == len(v2)
    assert not set(v2) & v1


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"split": "dev"}, "split must be 'train'"),
        ({"id": "cs1-0001"}, "not a new cs2- id"),
        ({"kind": "pun"}, "unknown kind"),
    ],
)
def test_bad_lines_are_rejected(change: dict[str, str], message: str) -> None:
    with pytest.raises(InputError, match=message):
        parse_training_lines([json.dumps(_VALID | change)])


def test_a_repeated_id_is_rejected() -> None:
    line = json.dumps(_VALID)
    with pytest.raises(InputError, match="not a new cs2- id"):
        parse_training_lines([line, "", line])
