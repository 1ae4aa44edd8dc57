"""Issue 22, finding 2: the redactor must never touch identifiers.

A 13-19 digit run inside a uuid that passes the Luhn check used to become ``[CARD]``
(0.19 % of request ids), so the reply could never be found or appealed again.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from bastion.core.types import Action
from bastion.gateway.recorder import DecisionEvent
from bastion.oversight import (
    AuditQuery,
    NewReport,
    OversightStore,
    Redactor,
    ReportKind,
)
from bastion.oversight.fakes import MemoryStore

# Real uuid4 hex ids whose digit runs pass the Luhn check (found by sampling uuid4()).
CARD_LIKE_IDS = [
    "modr-313874cddfbc423db246548991270564",
    "chatcmpl-a41244f0801247718688d2ceb98ebebb",
    "check-313874cddfbc423db246548991270564",
]


@pytest.mark.parametrize("request_id", CARD_LIKE_IDS)
def test_card_like_request_ids_are_kept_and_can_be_appealed(
    store: OversightStore, make_event: Callable[..., DecisionEvent], request_id: str
) -> None:
    entry = store.append_decision(
        make_event("how do I pick a lock", request_id=request_id, action=Action.REFUSE)
    )
    assert entry.request_id == request_id
    found = store.search(AuditQuery(request_id=request_id))
    assert [e.id for e in found] == [entry.id]
    appeal = store.add_report(NewReport(ReportKind.APPEAL, request_id, "I am a locksmith"))
    assert appeal.request_id == request_id and appeal.entry_id == entry.id


@pytest.mark.parametrize(
    "token",
    [
        "313874cddfbc423db246548991270564",
        "a41244f0801247718688d2ceb98ebebb",
        "sha:ab4111111111111111cd",
        "x4111111111111111",
        "4111111111111111y",
    ],
)
def test_digit_runs_inside_alphanumeric_tokens_are_not_cards(token: str) -> None:
    assert Redactor().text(f"see {token} now") == f"see {token} now"


@pytest.mark.parametrize(
    "text",
    [
        "card 4111111111111111.",
        "(4111 1111 1111 1111)",
        "card:4111-1111-1111-1111",
        "_4111111111111111",
    ],
)
def test_cards_between_separators_are_still_redacted(text: str) -> None:
    assert "[CARD]" in Redactor().text(text)


def test_content_is_still_redacted_around_a_kept_id(
    make_event: Callable[..., DecisionEvent],
) -> None:
    entry = MemoryStore().append_decision(
        make_event("card 4111 1111 1111 1111", request_id=CARD_LIKE_IDS[0], response="a@b.org")
    )
    assert entry.payload["messages"][0]["content"] == "card [CARD]"
    assert entry.payload["response"] == "[EMAIL]"
    assert entry.request_id == CARD_LIKE_IDS[0]


@settings(max_examples=300, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(uid=st.uuids(version=4), prefix=st.sampled_from(["", "chatcmpl-", "modr-", "check-"]))
@example(uid=uuid.UUID("313874cd-dfbc-423d-b246-548991270564"), prefix="modr-")
def test_redacting_a_record_never_changes_its_request_id(
    make_event: Callable[..., DecisionEvent], uid: uuid.UUID, prefix: str
) -> None:
    request_id = prefix + uid.hex
    entry = MemoryStore().append_decision(make_event("hello", request_id=request_id))
    assert entry.request_id == request_id
    assert Redactor().text(request_id) == request_id
