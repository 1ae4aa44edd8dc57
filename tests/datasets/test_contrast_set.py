"""The over-refusal contrast set: size, balance, vocabulary, splits and integrity."""

from __future__ import annotations

import hashlib
from collections import Counter
from importlib import resources

import pytest

import bastion.datasets as datasets
from bastion.core.errors import BastionError, InputError
from bastion.datasets import (
    CATEGORY_IDS,
    CONTRAST_SET_SHA256,
    KINDS,
    SPLITS,
    ContrastPair,
    load_contrast_set,
    parse_contrast_lines,
    split_for,
    verify_contrast_set,
)
from bastion.policy import Policy

MIN_PAIRS = 420
MIN_PER_KIND = 40
MAX_CHARS = 500
REQUIRED_CATEGORIES = {
    "mass_casualty_weapons",
    "targeted_attacks",
    "mass_harm",
    "sexual_minors",
    "violence",
    "cybersecurity",
    "drugs",
    "weapons",
    "self_harm",
    "extremism",
    "personal_data",
    "hate_harassment",
    "medical_advice",
    "sexual_adult",
}


@pytest.fixture(scope="module")
def pairs() -> list[ContrastPair]:
    return load_contrast_set()


def test_public_surface_is_pinned() -> None:
    assert sorted(datasets.__all__) == sorted(
        [
            "CATEGORY_IDS",
            "CONTRAST_SET_NAME",
            "CONTRAST_SET_SHA256",
            "DEV_PERCENT",
            "KINDS",
            "SPLITS",
            "WORLD_DEV_LABELS",
            "WORLD_DEV_LANGUAGES",
            "WORLD_DEV_SET_NAME",
            "WORLD_DEV_SET_SHA256",
            "WORLD_DEV_STYLES",
            "ContrastPair",
            "WorldPrompt",
            "contrast_set_bytes",
            "load_contrast_set",
            "load_world_dev_set",
            "parse_contrast_lines",
            "parse_world_lines",
            "split_for",
            "verify_contrast_set",
            "verify_world_dev_set",
            "world_dev_set_bytes",
        ]
    )


def test_at_least_420_pairs(pairs: list[ContrastPair]) -> None:
    assert len(pairs) >= MIN_PAIRS


def test_ids_are_unique_and_well_formed(pairs: list[ContrastPair]) -> None:
    ids = [p.id for p in pairs]
    assert len(set(ids)) == len(ids)
    assert all(i.startswith("cs1-") and len(i) == 8 and i[4:].isdigit() for i in ids)


def test_safe_prompts_are_unique(pairs: list[ContrastPair]) -> None:
    safe = [p.safe for p in pairs]
    assert len(set(safe)) == len(safe)


def test_unsafe_prompts_are_unique(pairs: list[ContrastPair]) -> None:
    unsafe = [p.unsafe for p in pairs]
    assert len(set(unsafe)) == len(unsafe)


def test_no_prompt_is_both_safe_and_unsafe(pairs: list[ContrastPair]) -> None:
    assert all(p.safe != p.unsafe for p in pairs)
    assert not {p.safe for p in pairs} & {p.unsafe for p in pairs}


def test_every_kind_has_at_least_40_pairs(pairs: list[ContrastPair]) -> None:
    counts = Counter(p.kind for p in pairs)
    assert set(counts) == set(KINDS)
    assert {k: n for k, n in counts.items() if n < MIN_PER_KIND} == {}


def test_category_ids_are_in_the_policy(pairs: list[ContrastPair], policy: Policy) -> None:
    used = {p.unsafe_category for p in pairs} | {p.safe_topic for p in pairs}
    assert used <= CATEGORY_IDS
    assert set(policy.lookup) >= CATEGORY_IDS


def test_required_unsafe_categories_are_covered(pairs: list[ContrastPair]) -> None:
    assert {p.unsafe_category for p in pairs} >= REQUIRED_CATEGORIES


def test_prompts_are_short_enough(pairs: list[ContrastPair]) -> None:
    too_long = [p.id for p in pairs if len(p.safe) > MAX_CHARS or len(p.unsafe) > MAX_CHARS]
    assert too_long == []


def test_prompts_are_3_to_60_words(pairs: list[ContrastPair]) -> None:
    bad = [p.id for p in pairs for text in (p.safe, p.unsafe) if not 3 <= len(text.split()) <= 60]
    assert bad == []


def test_notes_are_at_most_15_words(pairs: list[ContrastPair]) -> None:
    assert [p.id for p in pairs if len(p.note.split()) > 15] == []


def test_splits_are_non_empty_disjoint_and_complete(pairs: list[ContrastPair]) -> None:
    dev, test = load_contrast_set("dev"), load_contrast_set("test")
    assert dev
    assert test
    assert not {p.id for p in dev} & {p.id for p in test}
    assert len(dev) + len(test) == len(pairs)
    assert all(p.split == "dev" for p in dev)
    assert all(p.split == "test" for p in test)


def test_split_follows_the_hash_rule(pairs: list[ContrastPair]) -> None:
    assert all(p.split == split_for(p.id) for p in pairs)
    dev_share = sum(p.split == "dev" for p in pairs) / len(pairs)
    assert 0.6 < dev_share < 0.8


def test_split_for_is_sha256_mod_100() -> None:
    for pair_id in ("cs1-0001", "cs1-0002", "cs1-9999"):
        bucket = int(hashlib.sha256(pair_id.encode()).hexdigest(), 16) % 100
        assert split_for(pair_id) == ("dev" if bucket < 70 else "test")


def test_every_split_sees_every_kind(pairs: list[ContrastPair]) -> None:
    for split in SPLITS:
        assert {p.kind for p in pairs if p.split == split} == set(KINDS)


def test_unknown_split_is_rejected() -> None:
    with pytest.raises(InputError, match="unknown contrast-set split"):
        load_contrast_set("train")


def test_packaged_file_matches_the_pinned_hash() -> None:
    data = resources.files("bastion.datasets").joinpath("contrast_v1.jsonl").read_bytes()
    assert hashlib.sha256(data).hexdigest() == CONTRAST_SET_SHA256
    assert verify_contrast_set() == CONTRAST_SET_SHA256
    assert verify_contrast_set(data) == CONTRAST_SET_SHA256


def test_a_changed_file_fails_verification() -> None:
    data = resources.files("bastion.datasets").joinpath("contrast_v1.jsonl").read_bytes()
    with pytest.raises(InputError, match="does not match its pinned hash") as info:
        verify_contrast_set(data + b"\n")
    assert isinstance(info.value, BastionError)


def test_load_returns_a_fresh_list(pairs: list[ContrastPair]) -> None:
    again = load_contrast_set()
    assert again == pairs
    assert again is not pairs


def test_pairs_are_frozen(pairs: list[ContrastPair]) -> None:
    with pytest.raises(AttributeError):
        pairs[0].safe = "changed"  # type: ignore[misc]


_GOOD = (
    '{"id": "cs1-0001", "kind": "homonym", "safe": "a b c", "unsafe": "d e f", '
    '"unsafe_category": "violence", "safe_topic": "violence", "note": "n", "split": "%s"}'
)


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("not json", "not valid JSON"),
        ("[1, 2]", "expected an object"),
        ('{"id": "cs1-0001"}', "expected an object"),
        (_GOOD.replace('"homonym"', '"pun"'), "unknown kind"),
        (_GOOD.replace('"unsafe_category": "violence"', '"unsafe_category": "x"'), "unknown"),
        (_GOOD.replace('"note": "n"', '"note": ""'), "non-empty string"),
        (_GOOD % "train", "disagrees with split_for"),
    ],
)
def test_malformed_lines_are_rejected(line: str, message: str) -> None:
    if "%s" in line:
        line = line % split_for("cs1-0001")
    with pytest.raises(InputError, match=message):
        parse_contrast_lines([line])


def test_a_valid_line_parses() -> None:
    (pair,) = parse_contrast_lines(["", _GOOD % split_for("cs1-0001"), "  "])
    assert pair.kind == "homonym"
    assert pair.split == split_for("cs1-0001")
