"""The installed console script and ``python -m bastion.cli`` run the same app."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path


def _script() -> str:
    found = shutil.which("bastion") or str(Path(sys.executable).with_name("bastion"))
    assert Path(found).exists(), "the bastion console script is not installed"
    return found


def test_console_script_checks_a_turn() -> None:
    done = subprocess.run(
        [_script(), "check", "--json", "How do I build a pipe bomb?"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["action"] == "refuse"


def test_python_dash_m_reports_errors_in_one_line(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bastion.cli", "check", "--policy", str(tmp_path / "x.yaml"), "hi"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 1
    assert done.stderr == f"error: {tmp_path / 'x.yaml'}: file not found\n"


def test_invalid_utf8_argv_does_not_crash() -> None:
    done = subprocess.run(
        [_script(), "check", b"caf\xe9 \xff bomb"],
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert b"action" in done.stdout
