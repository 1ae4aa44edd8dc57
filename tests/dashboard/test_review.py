"""The review queue and an item's detail: uphold / overturn with a rationale."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from bastion.oversight import ItemStatus, NewReport, OversightStore, ReportKind, Scope, open_store
from bastion.oversight.fakes import MemoryStore

from ._support import HARMFUL, OVER_REFUSED, PASSWORD, chat, csrf_of


@pytest.fixture(params=["memory", "sqlite", "postgres"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[OversightStore]:
    """The review pages over every store backend (the real PostgreSQL server included)."""
    if request.param == "memory":
        opened: OversightStore = MemoryStore()
    elif request.param == "sqlite":
        opened = open_store(f"sqlite:///{tmp_path / 'oversight.db'}")
    else:
        opened = open_store(str(request.getfixturevalue("postgres_cluster").new_database()))
    opened.create_user("reviewer", PASSWORD, role=Scope.REVIEWER)
    yield opened
    opened.close()


def _queued(client: TestClient, store: OversightStore, message: str) -> str:
    """Chat, appeal the refusal, and return the queue item's id."""
    turn = chat(client, message).text
    rid = re.search(r'name="request_id" value="([^"]+)"', turn)
    assert rid
    report = store.add_report(NewReport(ReportKind.APPEAL, rid.group(1), reason="not harmful"))
    return report.item_id


def _decide(client: TestClient, item_id: str, **form: str) -> object:
    token = csrf_of(client.get(f"/dashboard/items/{item_id}").text)
    return client.post(
        f"/dashboard/items/{item_id}/decide",
        data={"csrf_token": token, **form},
        follow_redirects=False,
    )


def test_queue_lists_open_items(reviewer: TestClient, store: OversightStore) -> None:
    _queued(reviewer, store, OVER_REFUSED)
    page = reviewer.get("/dashboard/queue")
    assert page.status_code == 200
    assert "appeal" in page.text and "steal the show" in page.text
    rows = reviewer.get("/dashboard/queue?status=resolved", headers={"HX-Request": "true"})
    assert "<html" not in rows.text  # a fragment for htmx
    assert "Nothing in the queue" in rows.text
    assert reviewer.get("/dashboard/queue?status=bogus").status_code == 400


def test_item_shows_the_conversation_and_each_layers_verdict(
    reviewer: TestClient, store: OversightStore
) -> None:
    item_id = _queued(reviewer, store, HARMFUL)
    page = reviewer.get(f"/dashboard/items/{item_id}")
    assert page.status_code == 200
    assert "pipe bomb" in page.text
    assert "Each layer's verdict" in page.text
    assert " ms</td>" in page.text  # per-layer latency
    assert "rules" in page.text
    assert "not harmful" in page.text  # the appeal's reason


def test_overturn_with_a_rationale_resolves_the_item(
    reviewer: TestClient, store: OversightStore
) -> None:
    item_id = _queued(reviewer, store, OVER_REFUSED)
    done = _decide(
        reviewer, item_id, outcome="overturn", action="allow", rationale="A wedding speech."
    )
    assert done.status_code == 303  # type: ignore[attr-defined]
    assert store.get_item(item_id).status is ItemStatus.RESOLVED
    (decision,) = store.review_decisions(item_id=item_id)
    assert (decision.outcome.value, decision.action, decision.reviewer) == (
        "overturn",
        "allow",
        "reviewer",
    )
    page = reviewer.get(f"/dashboard/items/{item_id}").text
    assert "A wedding speech." in page and 'id="decide"' not in page
    assert [e.text for e in store.labelled_examples()] == [OVER_REFUSED]


def test_uphold_needs_only_a_rationale(reviewer: TestClient, store: OversightStore) -> None:
    item_id = _queued(reviewer, store, HARMFUL)
    assert _decide(reviewer, item_id, outcome="uphold", rationale="Right call.").status_code == 303  # type: ignore[attr-defined]
    again = _decide(reviewer, item_id, outcome="uphold", rationale="Twice?")
    assert again.status_code in (403, 409)  # type: ignore[attr-defined]


def test_bad_reviews_are_explained(reviewer: TestClient, store: OversightStore) -> None:
    item_id = _queued(reviewer, store, HARMFUL)
    for form, words in [
        ({"outcome": "overturn", "rationale": ""}, "rationale"),
        ({"outcome": "overturn", "rationale": "no action"}, "action"),
        ({"outcome": "maybe", "rationale": "x"}, "uphold or overturn"),
        ({"outcome": "overturn", "action": "explode", "rationale": "x"}, "unknown action"),
        (
            {"outcome": "overturn", "action": "allow", "category": "nope", "rationale": "x"},
            "category",
        ),
    ]:
        response = _decide(reviewer, item_id, **form)
        assert response.status_code == 400, form  # type: ignore[attr-defined]
        assert words in response.text  # type: ignore[attr-defined]
    assert store.get_item(item_id).status is ItemStatus.OPEN


def test_unknown_items_are_404(reviewer: TestClient) -> None:
    assert reviewer.get("/dashboard/items/nope").status_code == 404
    token = csrf_of(reviewer.get("/dashboard/queue").text)
    response = reviewer.post(
        "/dashboard/items/nope/decide",
        data={"csrf_token": token, "outcome": "uphold", "rationale": "x"},
    )
    assert response.status_code == 404
