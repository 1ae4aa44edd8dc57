"""Issue 22, finding 4: a locked store fails the request closed, fast, with an error id.

One check used to wait 242 s on a locked SQLite store and then send the raw
``RecordError`` text to the client. Now the write gives up within the store's bound, the
guard's refusal is answered with a generic error id, and the details go to the log only.
"""

from __future__ import annotations

import logging
import re
import time
from pathlib import Path
from typing import Any

import pytest

from bastion.gateway import GatewaySettings, load_settings
from bastion.oversight.fakes import exclusive_lock

RAW_TEXT = ("RecordError", "locked", "cannot write", "OperationalError", "sqlite")
ERROR_ID = re.compile(r"error id (err-[0-9a-f]{12})")


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "oversight.db"


@pytest.fixture
def store_settings(db_path: Path) -> GatewaySettings:
    return load_settings(
        environ={},
        overrides={
            "upstream.target": "scripted",
            "store_url": f"sqlite:///{db_path}",
            "dashboard.enabled": False,
            "oversight.write_timeout_s": 0.5,
        },
    )


def _no_raw_text(body: str) -> None:
    for needle in RAW_TEXT:
        assert needle.lower() not in body.lower(), body


def test_a_check_on_a_locked_store_refuses_fast_with_an_error_id(
    store_settings: GatewaySettings,
    db_path: Path,
    running: Any,
    caplog: pytest.LogCaptureFixture,
) -> None:
    body = {"messages": [{"role": "user", "content": "hello"}]}
    with running(store_settings) as client:
        assert client.post("/v1/guard/check", json=body).json()["decision"]["action"] == "allow"
        with exclusive_lock(db_path), caplog.at_level(logging.ERROR, "bastion.gateway"):
            start = time.monotonic()
            response = client.post("/v1/guard/check", json=body)
            elapsed = time.monotonic() - start
        assert response.status_code == 200
        decision = response.json()["decision"]
        assert decision["action"] == "refuse"
        _no_raw_text(response.text)
        match = ERROR_ID.search(decision["error"])
        assert match is not None, decision["error"]
        assert match.group(1) in caplog.text and "RecordError" in caplog.text
        assert elapsed < 2.0
        # Once the lock is gone the store takes writes again.
        assert client.post("/v1/guard/check", json=body).json()["decision"]["action"] == "allow"


def test_a_chat_on_a_locked_store_is_refused_without_calling_the_upstream(
    store_settings: GatewaySettings, db_path: Path, running: Any
) -> None:
    body = {"messages": [{"role": "user", "content": "hello"}]}
    with running(store_settings) as client, exclusive_lock(db_path):
        response = client.post("/v1/chat/completions", json=body)
    assert response.status_code == 200
    assert response.headers["X-Bastion-Action"] == "refuse"
    _no_raw_text(response.text)
    assert ERROR_ID.search(response.json()["bastion"]["input"]["error"])


def test_a_report_on_a_locked_store_is_a_503_with_an_error_id(
    store_settings: GatewaySettings, db_path: Path, running: Any
) -> None:
    body = {"messages": [{"role": "user", "content": "hello"}]}
    with running(store_settings) as client:
        request_id = client.post("/v1/guard/check", json=body).json()["id"]
        with exclusive_lock(db_path):
            response = client.post(
                "/v1/reports", json={"request_id": request_id, "reason": "wrong"}
            )
    assert response.status_code == 503
    error = response.json()["error"]
    assert error["type"] == "store_unavailable"
    assert ERROR_ID.search(error["message"])
    _no_raw_text(response.text)
