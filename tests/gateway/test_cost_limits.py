"""Issue 22, finding 3: requests are rate-limited by their cost, and a moderation request
has a budget.

A ``/v1/moderations`` call with 256 inputs of ~3.5 kB took 24.6 s of guard CPU for one
rate-limit token. Now a request costs one token per input text plus one per 1,000
characters, and a moderation request over its input or character cap is refused before
any check runs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from bastion.gateway import ScriptedUpstream, create_app, load_settings
from bastion.gateway.auth import RateLimiter
from bastion.gateway.limits import request_cost
from bastion.oversight import AuditQuery, Scope
from bastion.oversight.fakes import MemoryStore


@pytest.fixture
def keyed() -> Iterator[Callable[..., tuple[TestClient, dict[str, str]]]]:
    """``keyed(**overrides)``: a gateway with one client key, and that key's auth header."""
    clients: list[TestClient] = []

    def build(**overrides: object) -> tuple[TestClient, dict[str, str]]:
        settings = load_settings(
            environ={},
            overrides={"upstream.target": "scripted", "dashboard.enabled": False, **overrides},
        )
        store = MemoryStore(settings.oversight)
        client = TestClient(create_app(settings, store=store, upstream=ScriptedUpstream()))
        client.__enter__()
        clients.append(client)
        secret = store.create_key("app", Scope.CLIENT).secret
        return client, {"Authorization": f"Bearer {secret}"}

    yield build
    for client in clients:
        client.__exit__(None, None, None)


def _recorded(client: TestClient) -> int:
    store = client.app.state.gateway.store  # type: ignore[attr-defined]
    return int(store.count(AuditQuery()))


def _slow_refill(burst: int) -> dict[str, Any]:
    return {"rate_limit.per_second": 0.01, "rate_limit.burst": burst}


def test_a_moderation_batch_costs_a_token_per_input_and_per_1000_chars(
    keyed: Callable[..., tuple[TestClient, dict[str, str]]],
) -> None:
    client, auth = keyed(**_slow_refill(10))
    batch = {"input": ["a" * 1000] * 10}  # 10 inputs + 10,000 chars: 20 tokens
    assert client.post("/v1/moderations", json=batch, headers=auth).status_code == 200
    small = client.post("/v1/moderations", json={"input": "hi"}, headers=auth)
    assert small.status_code == 429  # the batch spent more than the whole bucket
    assert int(small.headers["Retry-After"]) >= 1000  # 11 tokens owed at 0.01 per second


def test_a_long_prompt_costs_a_token_per_1000_chars(
    keyed: Callable[..., tuple[TestClient, dict[str, str]]],
) -> None:
    client, auth = keyed(**_slow_refill(6))
    long_prompt = {"messages": "word " * 1000}  # 5,000 chars: 1 + 5 tokens
    assert client.post("/v1/guard/check", json=long_prompt, headers=auth).status_code == 200
    response = client.post("/v1/guard/check", json={"messages": "hi"}, headers=auth)
    assert response.status_code == 429
    assert response.json()["error"]["type"] == "rate_limit_error"


def test_short_requests_still_cost_one_token(
    keyed: Callable[..., tuple[TestClient, dict[str, str]]],
) -> None:
    client, auth = keyed(**_slow_refill(3))
    codes = [
        client.post("/v1/moderations", json={"input": "hi"}, headers=auth).status_code
        for _ in range(4)
    ]
    assert codes == [200, 200, 200, 429]


def test_too_many_moderation_inputs_is_a_400_before_any_check(
    keyed: Callable[..., tuple[TestClient, dict[str, str]]],
) -> None:
    client, auth = keyed(**{"moderation.max_inputs": 4})
    response = client.post("/v1/moderations", json={"input": ["hi"] * 5}, headers=auth)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["type"] == "invalid_request_error" and error["code"] == "too_many_inputs"
    assert "at most 4 inputs" in error["message"]
    assert _recorded(client) == 0  # refused before any check ran


def test_too_many_moderation_characters_is_a_413(
    keyed: Callable[..., tuple[TestClient, dict[str, str]]],
) -> None:
    client, auth = keyed(**{"moderation.max_total_chars": 1000})
    response = client.post("/v1/moderations", json={"input": ["a" * 600] * 2}, headers=auth)
    assert response.status_code == 413
    error = response.json()["error"]
    assert error["type"] == "request_too_large" and error["code"] == "input_too_long"
    assert "1,000 characters" in error["message"]
    assert (
        client.post("/v1/moderations", json={"input": "a" * 999}, headers=auth).status_code == 200
    )


def test_the_caps_hold_in_open_mode_too(running: Any) -> None:
    settings = load_settings(
        environ={}, overrides={"upstream.target": "scripted", "moderation.max_inputs": 2}
    )
    with running(settings) as client:
        response = client.post("/v1/moderations", json={"input": ["a", "b", "c"]})
    assert response.status_code == 400


def test_default_caps_refuse_the_reported_batch() -> None:
    settings = load_settings(environ={}, overrides={"upstream.target": "scripted"})
    caps = settings.moderation
    assert caps.max_inputs < 256 and caps.max_total_chars < 256 * 3500
    assert request_cost(256, 256 * 3500, chars_per_token=1000) == 256 + 896


def test_request_cost() -> None:
    assert request_cost(1, 0, chars_per_token=1000) == 1
    assert request_cost(1, 999, chars_per_token=1000) == 1
    assert request_cost(1, 1000, chars_per_token=1000) == 2
    assert request_cost(3, 2500, chars_per_token=500) == 8


def test_the_limiter_charges_debt_and_refills_with_its_clock() -> None:
    now = [0.0]
    limiter = RateLimiter(2.0, 4, clock=lambda: now[0])
    assert limiter.take("k") == 0.0
    limiter.charge("k", 9)  # 4 - 1 - 9 = -6 tokens
    assert limiter.take("k") == pytest.approx(3.5)  # to get back to one token at 2/s
    assert limiter.take("other") == 0.0
    now[0] += 3.5
    assert limiter.take("k") == 0.0
    off = RateLimiter(0, 1)
    off.charge("k", 1000)
    assert off.take("k") == 0.0
