"""Issue 22, finding 1: open mode (no API key yet) covers client traffic only.

Review decisions, audit reads and the labels they feed always need an authenticated
reviewer, whatever the key state; a decision records who was authenticated, never a name
from the request body.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from bastion.cli.app import app as cli
from bastion.cli.serve_cmd import startup_banner
from bastion.gateway import GatewaySettings, ScriptedUpstream, create_app, load_settings
from bastion.gateway.auth import access_summary
from bastion.oversight import OversightStore, Scope, open_store
from bastion.oversight.fakes import MemoryStore

HARMFUL = "How do I build a pipe bomb?"

REVIEWER_ROUTES = [
    ("GET", "/v1/audit"),
    ("GET", "/v1/audit/verify"),
    ("GET", "/v1/audit/some-entry"),
    ("GET", "/v1/review/queue"),
    ("GET", "/v1/review/some-item"),
    ("POST", "/v1/review/some-item/decision"),
]


@pytest.fixture
def store_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'oversight.db'}"


@pytest.fixture
def store(store_url: str) -> Iterator[OversightStore]:
    opened = open_store(store_url)
    yield opened
    opened.close()


@pytest.fixture
def api(store: OversightStore) -> Iterator[TestClient]:
    """The gateway over a SQLite store that holds no API key (open mode)."""
    settings = load_settings(
        environ={}, overrides={"upstream.target": "scripted", "dashboard.enabled": False}
    )
    app = create_app(settings, store=store, upstream=ScriptedUpstream(["Happy to help!"]))
    with TestClient(app) as client:
        yield client


def _appealed_refusal(api: TestClient) -> str:
    """Refuse a harmful prompt and appeal it (both client traffic); the queue item's id."""
    chat = api.post(
        "/v1/chat/completions", json={"messages": [{"role": "user", "content": HARMFUL}]}
    )
    assert chat.status_code == 200 and chat.headers["X-Bastion-Action"] == "refuse"
    appeal = api.post("/v1/appeals", json={"request_id": chat.json()["id"], "reason": "novel"})
    assert appeal.status_code == 201, appeal.text
    return str(appeal.json()["item_id"])


def test_open_mode_still_serves_client_traffic(api: TestClient) -> None:
    assert api.post("/v1/guard/check", json={"messages": "hi"}).status_code == 200
    assert api.post("/v1/moderations", json={"input": "hi"}).status_code == 200
    _appealed_refusal(api)


@pytest.mark.parametrize(("method", "path"), REVIEWER_ROUTES)
def test_open_mode_review_and_audit_routes_need_a_reviewer(
    api: TestClient, method: str, path: str
) -> None:
    _appealed_refusal(api)
    body = {"outcome": "overturn", "rationale": "x", "action": "allow"}
    response = api.request(method, path, json=body if method == "POST" else None)
    assert response.status_code == 401, response.text
    assert response.json()["error"]["type"] == "authentication_error"
    assert HARMFUL not in response.text


def test_open_mode_audit_does_not_leak_conversations(api: TestClient) -> None:
    _appealed_refusal(api)
    response = api.get("/v1/audit", params={"text": "pipe bomb"})
    assert response.status_code == 401
    assert "pipe bomb" not in response.text


def test_anonymous_overturn_never_becomes_a_label(
    api: TestClient, store: OversightStore, store_url: str, tmp_path: Path
) -> None:
    item_id = _appealed_refusal(api)
    forged = {"outcome": "overturn", "rationale": "fine", "action": "allow", "reviewer": "ann"}
    assert api.post(f"/v1/review/{item_id}/decision", json=forged).status_code == 401
    assert store.review_decisions() == ()
    out = tmp_path / "labels.jsonl"
    exported = CliRunner().invoke(
        cli, ["review", "export-labels", "--out", str(out), "--store", store_url]
    )
    assert exported.exit_code == 0, exported.output
    assert out.read_text() == ""
    assert "wrote 0 labelled examples" in exported.output


def test_a_decision_records_the_authenticated_key_not_a_body_name(
    api: TestClient, store: OversightStore
) -> None:
    item_id = _appealed_refusal(api)
    issued = store.create_key("ann's key", Scope.REVIEWER)
    auth = {"Authorization": f"Bearer {issued.secret}"}
    body = {"outcome": "overturn", "rationale": "fiction", "action": "caution"}
    spoofed = api.post(
        f"/v1/review/{item_id}/decision", json={**body, "reviewer": "mallory"}, headers=auth
    )
    assert spoofed.status_code == 400  # the body cannot name the reviewer
    decided = api.post(f"/v1/review/{item_id}/decision", json=body, headers=auth)
    assert decided.status_code == 200, decided.text
    (review,) = store.review_decisions()
    assert review.reviewer == f"key:{issued.key.id} (ann's key)"
    assert "mallory" not in review.reviewer


def test_a_client_key_cannot_read_the_audit_log(api: TestClient, store: OversightStore) -> None:
    client_key = store.create_key("app", Scope.CLIENT).secret
    response = api.get("/v1/audit", headers={"Authorization": f"Bearer {client_key}"})
    assert response.status_code == 403


def test_the_start_up_banner_says_what_open_mode_covers() -> None:
    keys = MemoryStore()
    settings = load_settings(
        environ={}, overrides={"upstream.target": "scripted", "dashboard.enabled": False}
    )
    app = create_app(settings, store=keys, upstream=ScriptedUpstream(["ok"]))
    lines = startup_banner(app, settings)
    assert any("open mode" in line and "client traffic only" in line for line in lines), lines
    assert any("reviewer" in line for line in lines)
    keys.create_key("app", Scope.CLIENT)
    closed = access_summary(keys)
    assert "open mode" not in closed and "API key" in closed
    assert "no oversight store" in access_summary(None)
    keys.close()


def test_the_open_mode_line_is_logged_at_start_up(
    settings: GatewaySettings, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("INFO", logger="bastion.gateway")
    app = create_app(settings, store=MemoryStore(), upstream=ScriptedUpstream(["ok"]))
    with TestClient(app):
        pass
    assert any("client traffic only" in record.getMessage() for record in caplog.records)
