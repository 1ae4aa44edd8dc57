"""The frozen world dev set: pinned, well-formed, balanced, and consistent with the policy."""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from importlib import resources

import pytest

from bastion.core.errors import InputError
from bastion.core.types import Action, Intent
from bastion.datasets import (
    WORLD_DEV_LANGUAGES,
    WORLD_DEV_SET_NAME,
    WORLD_DEV_SET_SHA256,
    WORLD_DEV_STYLES,
    WorldPrompt,
    load_world_dev_set,
    parse_world_lines,
    verify_world_dev_set,
    world_dev_set_bytes,
)
from bastion.policy.loader import load_policy
from bastion.policy.model import Policy

ROWS = load_world_dev_set()
PER_LANGUAGE = {
    "total": (75, 88),
    "harmful": (30, 40),
    "borderline": (25, 35),
    "everyday": (12, 18),
}
PASSING = {Action.ALLOW.value, Action.CAUTION.value}


@pytest.fixture(scope="module")
def policy() -> Policy:
    return load_policy()


def _row(**changes: object) -> str:
    row: dict[str, object] = {
        "id": "en-001",
        "language": "en",
        "text": "hi",
        "label": "benign",
        "category": None,
        "intent": "none",
        "style": "plain",
        "expected": "allow",
    }
    row.update(changes)
    return json.dumps(row)


def test_the_file_loads_and_matches_its_pinned_hash() -> None:
    data = resources.files("bastion.datasets").joinpath(WORLD_DEV_SET_NAME).read_bytes()
    assert hashlib.sha256(data).hexdigest() == WORLD_DEV_SET_SHA256
    assert verify_world_dev_set() == WORLD_DEV_SET_SHA256
    assert len(ROWS) == 400
    assert all(isinstance(row, WorldPrompt) for row in ROWS)


def test_an_edited_file_is_refused() -> None:
    with pytest.raises(InputError, match="pinned hash"):
        verify_world_dev_set(world_dev_set_bytes() + b"\n")


def test_the_card_ships_beside_the_data_and_pins_the_same_hash() -> None:
    card = resources.files("bastion.datasets").joinpath("WORLD_DEV_CARD.md").read_text("utf-8")
    assert WORLD_DEV_SET_SHA256 in card


def test_an_unknown_language_is_refused() -> None:
    with pytest.raises(InputError, match="unknown world dev set language"):
        load_world_dev_set("pt")


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("not json", "not valid JSON"),
        (json.dumps({"id": "en-001"}), "expected an object"),
        (_row(style="shouting"), "unknown style"),
        (_row(intent="attack"), "unknown intent"),
        (_row(expected="block"), "unknown expected"),
        (_row(label="unsafe"), "unknown label"),
        (_row(text=""), "non-empty"),
        (_row(id="fr-001"), "does not start with its language"),
    ],
)
def test_bad_lines_are_refused(line: str, message: str) -> None:
    with pytest.raises(InputError, match=message):
        parse_world_lines([line])


@pytest.mark.parametrize("row", ROWS, ids=lambda row: row.id)
def test_every_row_uses_the_vocabulary(row: WorldPrompt, policy: Policy) -> None:
    assert re.fullmatch(rf"{row.language}-\d{{3}}", row.id)
    assert row.category is None or row.category in policy.categories
    assert Intent(row.intent) and Action(row.expected)
    assert row.style in WORLD_DEV_STYLES
    assert row.text == row.text.strip() and row.text


@pytest.mark.parametrize("row", [r for r in ROWS if r.label == "harmful"], ids=lambda r: r.id)
def test_harmful_rows_expect_the_policy_table(row: WorldPrompt, policy: Policy) -> None:
    assert row.category is not None
    table = policy.action_for(row.category, "general", Intent(row.intent))
    assert row.expected == table.value
    assert row.expected != Action.ALLOW.value


@pytest.mark.parametrize("row", [r for r in ROWS if r.label == "benign"], ids=lambda r: r.id)
def test_benign_rows_expect_an_answer(row: WorldPrompt, policy: Policy) -> None:
    assert row.expected in PASSING
    assert row.intent in {Intent.DISCUSS.value, Intent.DEPICT.value, Intent.NONE.value}
    if row.category is None:
        assert (row.intent, row.expected) == (Intent.NONE.value, Action.ALLOW.value)
        return
    table = policy.action_for(row.category, "general", Intent(row.intent)).value
    # Where the table would refuse a benign reading (prompt_attack: discuss), the row
    # expects the answer a person would give; the card lists these rows.
    assert row.expected == (table if table in PASSING else Action.ALLOW.value)


@pytest.mark.parametrize("language", WORLD_DEV_LANGUAGES)
def test_each_language_has_the_planned_mix(language: str) -> None:
    rows = load_world_dev_set(language)
    counts = Counter(row.group for row in rows)
    counts["total"] = len(rows)
    for name, (low, high) in PER_LANGUAGE.items():
        assert low <= counts[name] <= high, (name, counts[name])
    harmful = [row for row in rows if row.label == "harmful"]
    assert len({row.category for row in harmful}) >= 10
    assert len({row.style for row in rows}) == len(WORLD_DEV_STYLES)
    assert all(row.language == language for row in rows)


def test_ids_and_texts_are_unique() -> None:
    assert len({row.id for row in ROWS}) == len(ROWS)
    texts = Counter(" ".join(row.text.casefold().split()) for row in ROWS)
    assert [text for text, n in texts.items() if n > 1] == []
