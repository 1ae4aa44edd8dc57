"""Issue 22, finding 6: huge ``offset``/``limit`` values are a clean 400, never a 500.

SQLite binds integers as 64-bit: 2^63 used to raise OverflowError inside the store.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from bastion.gateway import ScriptedUpstream, create_app, load_settings
from bastion.gateway.schemas import MAX_OFFSET
from bastion.oversight import Scope, open_store

PAGED = ["/v1/audit", "/v1/review/queue"]
TOO_BIG = [2**63, 2**63 - 1 + 10, 10**30, MAX_OFFSET + 1]


@pytest.fixture
def reviewer_api(tmp_path: Path) -> Iterator[TestClient]:
    """The gateway over a SQLite store, with a reviewer key in the client's headers."""
    store = open_store(f"sqlite:///{tmp_path / 'oversight.db'}")
    settings = load_settings(
        environ={}, overrides={"upstream.target": "scripted", "dashboard.enabled": False}
    )
    secret = store.create_key("ann", Scope.REVIEWER).secret
    app = create_app(settings, store=store, upstream=ScriptedUpstream(["ok"]))
    with TestClient(app, headers={"Authorization": f"Bearer {secret}"}) as client:
        yield client
    store.close()


@pytest.mark.parametrize("path", PAGED)
@pytest.mark.parametrize("value", TOO_BIG)
def test_a_huge_offset_is_a_400_in_the_error_format(
    reviewer_api: TestClient, path: str, value: int
) -> None:
    response = reviewer_api.get(path, params={"offset": value})
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["type"] == "invalid_request_error"
    assert "offset" in error["message"]


@pytest.mark.parametrize("path", PAGED)
@pytest.mark.parametrize("value", [2**63, 2**64, 1001, 0])
def test_a_limit_out_of_range_is_a_400(reviewer_api: TestClient, path: str, value: int) -> None:
    response = reviewer_api.get(path, params={"limit": value})
    assert response.status_code == 400, response.text
    assert "limit" in response.json()["error"]["message"]


@pytest.mark.parametrize("path", PAGED)
def test_the_largest_offset_allowed_is_an_empty_page(reviewer_api: TestClient, path: str) -> None:
    response = reviewer_api.get(path, params={"offset": MAX_OFFSET, "limit": 1000})
    assert response.status_code == 200, response.text
