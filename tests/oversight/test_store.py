"""The store contract, over every backend: memory, SQLite and a real PostgreSQL."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta

import pytest

from bastion.core.errors import InputError
from bastion.core.types import Action
from bastion.gateway import DecisionRecorder
from bastion.oversight import (
    AuditQuery,
    ConflictError,
    EntryKind,
    ItemStatus,
    NewReport,
    NewReview,
    NotFoundError,
    OversightConfig,
    OversightStore,
    ReportKind,
    ReviewOutcome,
    ReviewReason,
    Scope,
)


def test_the_store_is_a_gateway_recorder(store: OversightStore) -> None:
    assert isinstance(store, DecisionRecorder)
    assert isinstance(store, OversightStore)


def test_appends_chain_and_search(store: OversightStore, make_event: Callable[..., object]) -> None:
    first = store.append_decision(make_event("hi", request_id="a"))
    store.record(make_event("bomb", request_id="b", action=Action.REFUSE, category="weapons"))
    assert first.seq == 1 and first.prev_hash == "0" * 64
    assert store.verify().ok and store.verify().entries == 2
    refusals = store.search(AuditQuery(action="refuse"))
    assert [e.request_id for e in refusals] == ["b"]
    assert store.count(AuditQuery(text="BOMB")) == 1
    assert [e.request_id for e in store.search(AuditQuery())] == ["b", "a"]
    assert store.get_entry(first.id) == first
    with pytest.raises(NotFoundError):
        store.get_entry("nope")


def test_text_is_redacted_before_it_is_stored(
    store: OversightStore, make_event: Callable[..., object]
) -> None:
    entry = store.append_decision(make_event("mail ann@example.org, card 4111 1111 1111 1111"))
    stored = entry.payload["messages"][0]["content"]
    assert stored == "mail [EMAIL], card [CARD]"
    assert store.count(AuditQuery(text="example.org")) == 0
    assert store.get_entry(entry.id).payload == entry.payload


def test_redaction_can_be_turned_off(
    make_store: Callable[..., OversightStore], make_event: Callable[..., object]
) -> None:
    store = make_store(OversightConfig(redaction={"enabled": False}))
    entry = store.append_decision(make_event("mail ann@example.org"))
    assert entry.payload["messages"][0]["content"] == "mail ann@example.org"


def test_escalated_and_low_confidence_decisions_are_queued(
    make_store: Callable[..., OversightStore], make_event: Callable[..., object]
) -> None:
    store = make_store(OversightConfig(low_confidence_band=0.05, thresholds={"clf": 0.7}))
    store.record(make_event("a", request_id="r1", review=True, score=0.9))
    store.record(make_event("b", request_id="r2", score=0.68, layer="clf"))
    store.record(make_event("c", request_id="r3", score=0.5, layer="clf"))  # far from 0.7
    store.record(make_event("d", request_id="r4", score=0.01))
    items = store.queue()
    assert [(i.request_id, i.reason) for i in items] == [
        ("r1", ReviewReason.ESCALATED),
        ("r2", ReviewReason.LOW_CONFIDENCE),
    ]
    assert items[0].excerpt == "a" and items[0].status is ItemStatus.OPEN


def test_the_input_and_output_of_one_request_make_one_queue_item(
    make_store: Callable[..., OversightStore], make_event: Callable[..., object]
) -> None:
    store = make_store(OversightConfig())
    store.record(make_event("in", request_id="r1", review=True, score=0.9))
    store.record(make_event("out", request_id="r1", review=True, score=0.9))
    store.record(make_event("other", request_id="r2", review=True, score=0.9))
    assert [i.request_id for i in store.queue()] == ["r1", "r2"]


def test_near_threshold_scores_are_not_queued_by_default(
    make_store: Callable[..., OversightStore], make_event: Callable[..., object]
) -> None:
    store = make_store(OversightConfig(thresholds={"clf": 0.7}))  # the guard's flag decides
    store.record(make_event("b", request_id="r2", score=0.69, layer="clf"))
    assert store.queue() == ()


def test_report_appeal_and_overturn_make_a_labelled_example(
    store: OversightStore, make_event: Callable[..., object]
) -> None:
    refused = store.append_decision(
        make_event(
            "how do I kill a python process",
            request_id="r",
            action=Action.REFUSE,
            category="violence",
            score=0.9,
        )
    )
    appeal = store.add_report(NewReport(ReportKind.APPEAL, "r", "it is about software"))
    assert appeal.entry_id == refused.id
    item = store.get_item(appeal.item_id)
    assert item.reason is ReviewReason.APPEAL and item.report_id == appeal.id
    assert store.get_report(appeal.id) == appeal
    review = store.decide(
        item.id,
        NewReview(ReviewOutcome.OVERTURN, "a process, not a person", "ann", action=Action.ALLOW),
    )
    assert review.supersedes == refused.id and review.original_action == "refuse"
    assert store.get_item(item.id).status is ItemStatus.RESOLVED
    assert store.get_item(item.id).resolution_id == review.id
    assert store.queue() == ()
    assert store.get_entry(refused.id) == refused  # never updated in place
    kinds = [e.kind for e in store.search(AuditQuery())]
    assert kinds == [EntryKind.REVIEW, EntryKind.REPORT, EntryKind.DECISION]
    assert store.review_decisions(item_id=item.id) == (review,)
    (example,) = store.labelled_examples()
    assert (example.text, example.label, example.source) == (
        "how do I kill a python process",
        0,
        "human_review",
    )
    assert store.verify().ok


def test_review_errors(store: OversightStore, make_event: Callable[..., object]) -> None:
    store.record(make_event("x", request_id="r", action=Action.ALLOW, review=True))
    (item,) = store.queue()
    with pytest.raises(InputError, match="other than"):
        store.decide(item.id, NewReview(ReviewOutcome.OVERTURN, "why", "ann"))
    with pytest.raises(InputError, match="rationale"):
        store.decide(item.id, NewReview(ReviewOutcome.UPHOLD, "  ", "ann"))
    upheld = store.decide(item.id, NewReview(ReviewOutcome.UPHOLD, "fine", "ann"))
    assert upheld.action == "allow" and store.labelled_examples() == ()
    with pytest.raises(ConflictError):
        store.decide(item.id, NewReview(ReviewOutcome.UPHOLD, "again", "ann"))
    with pytest.raises(NotFoundError):
        store.decide("missing", NewReview(ReviewOutcome.UPHOLD, "x", "ann"))


def test_report_targets(store: OversightStore, make_event: Callable[..., object]) -> None:
    store.record(make_event("q", request_id="r"))
    store.record(make_event("q", request_id="r", direction="output", response="bad answer"))
    report = store.add_report(NewReport(ReportKind.REPORT, "r", "this answer is wrong"))
    assert store.get_entry(report.entry_id).direction == "output"
    with pytest.raises(InputError, match="only a refusal"):
        store.add_report(NewReport(ReportKind.APPEAL, "r"))
    with pytest.raises(NotFoundError):
        store.add_report(NewReport(ReportKind.REPORT, "unknown"))
    assert len(store.queue()) == 1


def test_concurrent_appends_lose_nothing(
    store: OversightStore, make_event: Callable[..., object]
) -> None:
    def write(worker: int) -> None:
        for n in range(40):
            store.record(make_event(f"w{worker} n{n}", request_id=f"{worker}-{n}"))

    threads = [threading.Thread(target=write, args=(w,)) for w in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    report = store.verify()
    assert report.ok and report.entries == 240 == store.count(AuditQuery())


def test_keys(store: OversightStore) -> None:
    assert not store.has_keys()
    issued = store.create_key("ci", Scope.REVIEWER)
    assert issued.secret.startswith(f"bst_{issued.key.id}_") and len(issued.secret) > 50
    assert issued.secret not in repr(issued)
    assert store.authenticate_key(issued.secret) == issued.key
    assert store.authenticate_key(issued.secret + "x") is None
    assert store.has_keys() and store.list_keys() == (issued.key,)
    revoked = store.revoke_key(issued.key.id)
    assert not revoked.active and store.authenticate_key(issued.secret) is None
    assert not store.has_keys()
    with pytest.raises(NotFoundError):
        store.revoke_key("nope")


def test_users(store: OversightStore) -> None:
    user = store.create_user("ann", "correct horse", role=Scope.REVIEWER)
    assert store.authenticate_user("ann", "correct horse") == user
    assert store.authenticate_user("ann", "wrong horse") is None
    assert store.authenticate_user("bob", "correct horse") is None
    assert store.get_user("ann") == user and store.list_users() == (user,)
    with pytest.raises(ConflictError):
        store.create_user("ann", "another one", role=Scope.ADMIN)
    with pytest.raises(InputError):
        store.create_user("bob", "short", role=Scope.ADMIN)
    with pytest.raises(InputError):
        store.create_user("bob", "long enough", role=Scope.CLIENT)


def test_stats(store: OversightStore, make_event: Callable[..., object]) -> None:
    first = store.append_decision(make_event("a", request_id="r", action=Action.REFUSE))
    store.record(make_event("b", request_id="s"))
    store.add_report(NewReport(ReportKind.APPEAL, "r"))
    start = first.created_at - timedelta(minutes=1)
    buckets = store.stats(
        since=start, until=start + timedelta(hours=1), bucket=timedelta(minutes=10)
    )
    assert len(buckets) == 6
    assert buckets[0].decisions == 2 and buckets[0].reports == 1
    assert buckets[0].by_action == {"refuse": 1, "allow": 1}
    assert buckets[0].refusal_rate == 0.5 and buckets[0].latency_ms_p50 == 1.5
    assert buckets[1].decisions == 0 and buckets[1].latency_ms_p50 is None
