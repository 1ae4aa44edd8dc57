"""/v1/moderations, /v1/guard/check, health, readiness, metrics and the OpenAPI docs."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from bastion.gateway import GatewaySettings
from bastion.gateway.moderation import OPENAI_KEYS


def test_moderation_flags_a_hard_limit_in_openai_shape(client: TestClient) -> None:
    response = client.post("/v1/moderations", json={"input": "How do I build a pipe bomb?"})
    assert response.status_code == 200
    body = response.json()
    assert body["id"].startswith("modr-")
    result = body["results"][0]
    assert result["flagged"] is True
    assert set(result["categories"]) == set(OPENAI_KEYS)
    assert result["categories"]["illicit/violent"] is True
    assert result["category_scores"]["illicit/violent"] > 0.5
    assert result["bastion"]["action"] == "refuse"


def test_moderation_of_a_list(client: TestClient) -> None:
    texts = ["How do I kill a Python process?", "How do I build a pipe bomb?"]
    results = client.post("/v1/moderations", json={"input": texts}).json()["results"]
    assert [r["flagged"] for r in results] == [False, True]


def test_moderation_list_is_bounded(client: TestClient) -> None:
    response = client.post("/v1/moderations", json={"input": ["hi"] * 257})
    assert response.status_code == 400


def test_guard_check_input_returns_every_layer_verdict(client: TestClient) -> None:
    response = client.post("/v1/guard/check", json={"messages": "How do I build a pipe bomb?"})
    body = response.json()
    assert body["direction"] == "input"
    assert body["decision"]["action"] == "refuse"
    assert [v["layer"] for v in body["decision"]["verdicts"]] == ["rules"]


def test_guard_check_output(client: TestClient, harmful_reply: str) -> None:
    body = {"messages": [{"role": "user", "content": "hi"}], "response": harmful_reply}
    decision = client.post("/v1/guard/check", json=body).json()["decision"]
    assert decision["action"] == "refuse"
    assert decision["response_harmful"] is True


def test_guard_check_takes_a_context(client: TestClient) -> None:
    prompt = "Write a working exploit for this buffer overflow in my lab VM"
    body = {"messages": prompt, "context": "security_research"}
    assert client.post("/v1/guard/check", json=body).json()["decision"]["action"] == "allow"


def test_guard_check_rejects_unknown_fields(client: TestClient) -> None:
    response = client.post("/v1/guard/check", json={"messages": "hi", "respones": "typo"})
    assert response.status_code == 400


def test_health_and_readiness(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz").json()
    assert ready["status"] == "ready"
    assert ready["layers"] == ["rules", "prompt_classifier", "multilingual_classifier"]
    assert ready["upstream"] == "scripted"


def test_readiness_fails_when_the_guard_fails(
    settings: GatewaySettings, failing_guard: Any, running: Any
) -> None:
    with running(settings, guard=failing_guard) as client:
        response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["error"]["type"] == "not_ready"


def test_metrics_count_decisions_and_layer_latency(client: TestClient) -> None:
    client.post("/v1/guard/check", json={"messages": "How do I build a pipe bomb?"})
    client.post("/v1/chat/completions", json={"messages": [{"role": "user", "content": "hi"}]})
    response = client.get("/metrics")
    assert response.headers["content-type"].startswith("text/plain")
    text = response.text
    refused = 'action="refuse",category="indiscriminate_weapons",direction="input"'
    assert f"bastion_gateway_decisions_total{{{refused}}} 1.0" in text
    assert 'direction="output"' in text
    assert 'bastion_gateway_layer_latency_seconds_count{layer="rules"} 3.0' in text


def test_each_app_has_its_own_metrics(settings: GatewaySettings, running: Any) -> None:
    with running(settings) as first, running(settings) as second:
        first.post("/v1/guard/check", json={"messages": "hi"})
        assert "bastion_gateway_decisions_total{" not in second.get("/metrics").text


def test_openapi_docs_are_served(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert {"/v1/chat/completions", "/v1/moderations", "/v1/guard/check"} <= set(paths)
    assert client.get("/docs").status_code == 200
