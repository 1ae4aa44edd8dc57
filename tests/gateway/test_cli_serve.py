"""``bastion serve``: flags, clean errors, and a real start on a free port."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
from typer.testing import CliRunner

from bastion.cli.app import app


def test_serve_help_lists_the_flags() -> None:
    result = CliRunner().invoke(app, ["serve", "--help"])
    assert result.exit_code == 0
    for flag in ("--config", "--upstream", "--host", "--port", "--settings"):
        assert flag in result.output


def test_bad_settings_are_one_clean_error_line(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["serve", "--upstream", "gopher://nope"])
    assert result.exit_code == 1
    assert "error: invalid gateway settings at upstream" in result.output
    missing = CliRunner().invoke(app, ["serve", "--config", str(tmp_path / "none.yaml")])
    assert missing.exit_code == 1
    assert "Traceback" not in missing.output


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_serve_starts_and_answers(tmp_path: Path) -> None:
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("BASTION_")}
    command = [sys.executable, "-m", "bastion", "serve", "--upstream", "scripted"]
    store = f"sqlite:///{tmp_path / 'oversight.db'}"
    process = subprocess.Popen(
        [*command, "--port", str(port), "--store", store],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        reply = _wait_and_chat(f"http://127.0.0.1:{port}")
    finally:
        process.terminate()
        process.wait(timeout=20)
    assert reply["choices"][0]["message"]["content"].startswith("This is a scripted reply")


def _wait_and_chat(base: str) -> dict[str, object]:
    body = {"messages": [{"role": "user", "content": "hello"}]}
    deadline = time.monotonic() + 30
    with httpx.Client(base_url=base, timeout=5) as http:
        while True:
            try:
                if http.get("/readyz").status_code == 200:
                    return dict(http.post("/v1/chat/completions", json=body).json())
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise
            time.sleep(0.1)
