"""The playground: chats through the gateway's /v1/chat/completions, decisions, reports."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient

from bastion.gateway import GatewaySettings
from bastion.oversight import ItemStatus, OversightStore, Scope

from ._support import BENIGN, BENIGN_REPLY, HARMFUL, OVER_REFUSED, chat, csrf_of, login


def _request_id(html: str) -> str:
    found = re.search(r'name="request_id" value="([^"]+)"', html)
    assert found
    return found.group(1)


def _report(client: TestClient, request_id: str, kind: str) -> Any:
    token = csrf_of(client.get("/dashboard/playground").text)
    return client.post(
        "/dashboard/playground/report",
        data={"request_id": request_id, "kind": kind, "csrf_token": token},
        headers={"HX-Request": "true"},
    )


def test_a_harmful_request_is_refused_with_an_explanation(client: TestClient) -> None:
    turn = chat(client, HARMFUL)
    assert turn.status_code == 200
    assert 'data-action="refuse"' in turn.text
    assert "indiscriminate_weapons" in turn.text
    assert "can&#39;t help" in turn.text  # the explanation, escaped
    assert "Report: wrong refusal" in turn.text
    assert 'hx-swap-oob="true"' in turn.text  # the message box is cleared


def test_a_benign_request_is_answered_by_the_upstream(client: TestClient) -> None:
    turn = chat(client, BENIGN)
    assert 'data-action="allow"' in turn.text
    assert "kill PID" in turn.text
    assert "Report: bad answer" in turn.text


def test_the_conversation_is_kept_in_the_session(client: TestClient) -> None:
    chat(client, BENIGN)
    chat(client, "And on Windows?")
    page = client.get("/dashboard/playground").text
    assert page.count('class="turn"') == 2
    token = csrf_of(page)
    client.post("/dashboard/playground/reset", data={"csrf_token": token})
    assert client.get("/dashboard/playground").text.count('class="turn"') == 0


def test_each_turn_is_in_the_audit_log(client: TestClient, store: OversightStore) -> None:
    rid = _request_id(chat(client, HARMFUL).text)
    from bastion.oversight import AuditQuery

    entries = store.search(AuditQuery(request_id=rid))
    assert [e.action for e in entries] == ["refuse"]


def test_a_wrong_refusal_report_lands_in_the_queue(
    client: TestClient, store: OversightStore
) -> None:
    rid = _request_id(chat(client, OVER_REFUSED).text)
    reported = _report(client, rid, "wrong_refusal")
    assert reported.status_code == 200
    assert "Reported (wrong refusal)" in reported.text
    items = [i for i in store.queue(status=ItemStatus.OPEN) if i.request_id == rid]
    assert ("appeal", "refuse") in [(i.reason.value, i.action) for i in items]


def test_a_bad_answer_report_lands_in_the_queue(client: TestClient, store: OversightStore) -> None:
    rid = _request_id(chat(client, BENIGN).text)
    assert _report(client, rid, "bad_answer").status_code == 200
    assert any(i.request_id == rid and i.reason.value == "report" for i in store.queue())


def test_reports_need_a_known_kind_and_a_turn_of_this_session(client: TestClient) -> None:
    rid = _request_id(chat(client, HARMFUL).text)
    assert _report(client, rid, "because").status_code == 400
    assert _report(client, "chatcmpl-someone-elses", "wrong_refusal").status_code == 404


def test_bad_messages_are_clear_errors(client: TestClient) -> None:
    empty = chat(client, "   ")
    assert empty.status_code == 400
    assert "type a message" in empty.text
    assert empty.headers["hx-retarget"] == "#errors"
    assert chat(client, "x" * 9000).status_code == 400
    assert chat(client, BENIGN, context="no-such-context").status_code == 400


def test_hostile_unicode_gets_a_decision(client: TestClient) -> None:
    hostile = "\u202eevil\u200b\u200b" + "e\u0301" * 500 + "\x00"
    turn = chat(client, hostile)
    assert turn.status_code == 200
    assert "data-action=" in turn.text


def test_the_deployment_context_is_sent_to_the_gateway(client: TestClient) -> None:
    exploit = "Write a working exploit for this buffer overflow in my lab VM"
    assert 'data-action="refuse"' in chat(client, exploit, context="minors").text
    assert 'data-action="allow"' in chat(client, exploit, context="security_research").text


def test_without_javascript_the_form_redirects_back(client: TestClient) -> None:
    token = csrf_of(client.get("/dashboard/playground").text)
    response = client.post(
        "/dashboard/playground/send",
        data={"message": BENIGN, "csrf_token": token},
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert BENIGN_REPLY.split("`")[1] in client.get("/dashboard/playground").text


def test_once_keys_exist_only_dashboard_users_may_chat(
    store: OversightStore, settings: GatewaySettings, make_client: Callable[..., Any]
) -> None:
    store.create_key("some-app", Scope.CLIENT)
    with make_client(store, settings) as client:
        assert client.get("/dashboard/playground").status_code == 403
        login(client)
        turn = chat(client, BENIGN)
        assert 'data-action="allow"' in turn.text  # sent with the playground's own key
        assert _report(client, _request_id(turn.text), "bad_answer").status_code == 200
    names = [k.name for k in store.list_keys() if k.active]
    assert names.count("dashboard-playground") == 1


def test_the_playground_can_be_turned_off(
    store: OversightStore, settings: GatewaySettings, make_client: Callable[..., Any]
) -> None:
    off = settings.model_copy(
        update={"dashboard": settings.dashboard.model_copy(update={"playground": "off"})}
    )
    with make_client(store, off) as client:
        assert client.get("/dashboard/playground").status_code == 404
        assert (
            client.get("/dashboard/", follow_redirects=False).headers["location"].endswith("/login")
        )
