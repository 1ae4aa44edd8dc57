"""Audit search, chain verification, one entry, and the charts."""

from __future__ import annotations

import hashlib
from importlib import resources

import pytest
from fastapi.testclient import TestClient

from bastion.dashboard.charts import CHARTS, render_chart
from bastion.oversight import OversightStore

from ._support import BENIGN, HARMFUL, chat


def test_audit_search_finds_by_text_and_filters(reviewer: TestClient) -> None:
    chat(reviewer, BENIGN)
    chat(reviewer, HARMFUL)  # its entry holds the whole conversation, the benign turn too
    page = reviewer.get("/dashboard/audit?text=pipe+bomb")
    assert page.status_code == 200
    assert "1 matching entry" in page.text
    rows = reviewer.get("/dashboard/audit?action=allow", headers={"HX-Request": "true"})
    assert "<html" not in rows.text
    assert "matching entr" in rows.text
    assert "No entries match" in reviewer.get("/dashboard/audit?text=zebra-unicorn").text


def test_audit_search_explains_bad_filters(reviewer: TestClient) -> None:
    assert "not a date" in reviewer.get("/dashboard/audit?since=yesterday").text
    assert "unknown kind" in reviewer.get("/dashboard/audit?kind=gossip").text
    assert reviewer.get("/dashboard/audit?offset=-1").status_code == 400
    assert reviewer.get("/dashboard/audit?text=" + "x" * 600).status_code == 400


def test_chain_verification_and_entry_page(reviewer: TestClient, store: OversightStore) -> None:
    chat(reviewer, HARMFUL)
    verdict = reviewer.get("/dashboard/audit/verify", headers={"HX-Request": "true"})
    assert "Chain intact: 1 entries verified" in verdict.text
    from bastion.oversight import AuditQuery

    (entry,) = store.search(AuditQuery())
    page = reviewer.get(f"/dashboard/audit/entries/{entry.id}")
    assert entry.hash in page.text and "verdicts" in page.text
    assert reviewer.get("/dashboard/audit/entries/nope").status_code == 404


@pytest.mark.parametrize("name", list(CHARTS))
def test_each_chart_is_an_svg(reviewer: TestClient, name: str) -> None:
    chat(reviewer, HARMFUL)
    response = reviewer.get(f"/dashboard/charts/{name}.svg?window=7d")
    assert response.status_code == 200
    assert response.headers["content-type"] == "image/svg+xml"
    assert response.content.lstrip().startswith(b"<?xml")
    assert "private, max-age=" in response.headers["cache-control"]


def test_charts_page_and_bad_chart_requests(reviewer: TestClient) -> None:
    page = reviewer.get("/dashboard/charts")
    assert page.text.count('<img src="/dashboard/charts/') == len(CHARTS)
    assert reviewer.get("/dashboard/charts/pie.svg").status_code == 404
    assert reviewer.get("/dashboard/charts/actions.svg?window=1y").status_code == 400


def test_charts_render_without_any_data() -> None:
    for name, title in CHARTS.items():
        assert b"no decisions in this window" in render_chart(name, (), title=title) or name
        assert render_chart(name, (), title=title).startswith(b"<?xml")


def test_the_vendored_htmx_is_the_pinned_file(client: TestClient) -> None:
    static = resources.files("bastion.dashboard") / "static"
    data = (static / "htmx.min.js").read_bytes()
    expected = "d6fdc75f204e6bdefa99b69bf1e6d4ac69b8a364f77929f45c13476b4000f717"
    assert hashlib.sha256(data).hexdigest() == expected
    assert "2.0.11" in (static / "VENDORED.md").read_text("utf-8")
    served = client.get("/dashboard/static/htmx.min.js")
    assert served.status_code == 200 and served.content == data
