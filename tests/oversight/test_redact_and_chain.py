"""The redactor and the hash chain as units."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bastion.core.types import Action
from bastion.oversight import RedactionConfig, Redactor, verify_entries
from bastion.oversight.fakes import MemoryStore


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("write to ann.lee+x@mail.example.co.uk today", "write to [EMAIL] today"),
        ("card 4111 1111 1111 1111 please", "card [CARD] please"),
        ("card 4111-1111-1111-1111", "card [CARD]"),
        ("call +44 20 7946 0958 or (555) 123-4567", "call [PHONE] or [PHONE]"),
        ("ssn 123-45-6789", "ssn [SSN]"),
        ("from 192.168.10.200 and 2001:0db8:85a3:0000:0000:8a2e:0370:7334", "from [IP] and [IP]"),
        ("IBAN DE89 3704 0044 0532 0130 00", "IBAN [IBAN]"),
    ],
)
def test_personal_data_is_replaced(text: str, expected: str) -> None:
    assert Redactor().text(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "bake 2 cups of flour at 350 degrees for 45 minutes",
        "version 1.2.3",
        "in 2024, 3 kids",
        "the year 1999 and room 101",
    ],
)
def test_ordinary_numbers_survive(text: str) -> None:
    assert Redactor().text(text) == text


def test_kinds_and_trees() -> None:
    only_email = Redactor(RedactionConfig(kinds=("email",)))
    assert only_email.text("a@b.org 555-123-4567") == "[EMAIL] 555-123-4567"
    tree = {"role": "a@b.org", "content": ["x a@b.org"], "n": 3}
    assert Redactor().tree(tree, keep=frozenset({"role"})) == {
        "role": "a@b.org",
        "content": ["x [EMAIL]"],
        "n": 3,
    }
    with pytest.raises(ValueError, match="unknown redaction kinds"):
        RedactionConfig(kinds=("passport",))


@given(st.text(max_size=300))
def test_redaction_never_crashes(text: str) -> None:
    assert isinstance(Redactor().text(text), str)


def test_tampering_with_an_entry_is_found(make_event: object) -> None:
    store = MemoryStore()
    for n in range(4):
        store.record(make_event(f"t{n}", request_id=str(n)))  # type: ignore[operator]
    from bastion.oversight import AuditQuery

    entries = sorted(store.search(AuditQuery(limit=10)), key=lambda e: e.seq)
    assert verify_entries(entries).ok
    altered = [*entries[:2], replace(entries[2], action=Action.REFUSE.value), entries[3]]
    report = verify_entries(altered)
    assert (report.ok, report.broken_seq) == (False, 3)
    assert verify_entries([entries[1], entries[2]]).broken_seq == 2  # the first is missing
    rechained = [*entries[:2], replace(entries[3], seq=3)]
    assert verify_entries(rechained).broken_seq == 3
