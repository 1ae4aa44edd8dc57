"""The server install is pinned with hashes (``requirements/server.lock``) and one command
(``scripts/sbom.sh``) regenerates it and the CycloneDX SBOM. No network: files only."""

from __future__ import annotations

import os
import re
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]
LOCK = ROOT / "requirements" / "server.lock"
SCRIPT = ROOT / "scripts" / "sbom.sh"
_PIN = re.compile(r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)==(?P<version>[^\s;\\]+)")
_HASH = re.compile(r"--hash=sha256:[0-9a-f]{64}")


def _entries() -> list[str]:
    """The lock's requirements, one string each (continuation lines joined, comments cut)."""
    text = LOCK.read_text("utf-8").replace("\\\n", " ")
    lines = (line.split("#", 1)[0].strip() for line in text.splitlines())
    return [line for line in lines if line]


def _pins() -> dict[str, str]:
    pins = {}
    for entry in _entries():
        match = _PIN.match(entry)
        assert match, entry
        pins[canonicalize_name(match["name"])] = match["version"]
    return pins


def _server_requirements() -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["project"]
    named = [*project["dependencies"], *project["optional-dependencies"]["serve"]]
    return [Requirement(spec) for spec in named]


def test_the_lock_file_exists() -> None:
    assert LOCK.is_file()
    assert _entries()


def test_every_entry_pins_one_version_with_sha256_hashes() -> None:
    for entry in _entries():
        assert _PIN.match(entry), f"not pinned with ==: {entry[:80]}"
        assert _HASH.search(entry), f"no --hash=sha256: {entry[:80]}"
        assert not re.search(r"(>=|<=|~=|!=|\s>|\s<)", entry.split("--hash", 1)[0]), entry


def test_every_physical_line_is_a_pin_a_hash_or_a_comment() -> None:
    for line in LOCK.read_text("utf-8").splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        assert _PIN.match(stripped) or _HASH.match(stripped), line


@pytest.mark.parametrize(
    "requirement", _server_requirements(), ids=lambda r: canonicalize_name(r.name)
)
def test_the_lock_covers_each_core_and_serve_dependency(requirement: Requirement) -> None:
    pins = _pins()
    name = canonicalize_name(requirement.name)
    assert name in pins, f"{name} (pyproject.toml) is not in {LOCK.name}: run bash scripts/sbom.sh"
    assert requirement.specifier.contains(pins[name], prereleases=True), (
        f"{name}=={pins[name]} does not satisfy {requirement.specifier} from pyproject.toml"
    )


def test_the_lock_says_how_it_was_made() -> None:
    assert "bash scripts/sbom.sh" in LOCK.read_text("utf-8")


def test_one_command_regenerates_the_lock_and_the_sbom() -> None:
    assert os.access(SCRIPT, os.X_OK)
    script = SCRIPT.read_text("utf-8")
    assert "pip-compile" in script and "--generate-hashes" in script
    assert "cyclonedx-py" in script and "sbom.cdx.json" in script
