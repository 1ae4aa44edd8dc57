"""``bastion curate`` as a new user runs it: the README command over the shipped sample."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "examples" / "curate" / "sample.jsonl"


def _bastion(*args: str | Path) -> subprocess.CompletedProcess[str]:
    exe = shutil.which("bastion") or str(Path(sys.executable).with_name("bastion"))
    return subprocess.run(
        [exe, *map(str, args)], cwd=ROOT, capture_output=True, text=True, timeout=300
    )


def _lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text("utf-8").splitlines()]


@pytest.fixture(scope="module")
def curated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("curated")
    done = _bastion("curate", SAMPLE, "--out", out)
    assert done.returncode == 0, done.stderr
    assert "report:" in done.stdout
    return out


def _by_source(rows: list[dict[str, Any]], key: str = "row") -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        out.setdefault((row[key] if key else row)["source"], []).append(row)
    return out


def test_every_sample_line_is_accounted_for(curated: Path) -> None:
    lines = [line for line in SAMPLE.read_text("utf-8").splitlines() if line.strip()]
    kept = _lines(curated / "kept" / "sample.jsonl")
    removed = _lines(curated / "removed" / "sample.jsonl")
    errors = _lines(curated / "errors" / "sample.jsonl")
    assert len(kept) + len(removed) + len(errors) == len(lines)
    assert len(errors) == 3


def test_the_sample_is_curated_as_its_rows_say(curated: Path) -> None:
    removed = _by_source(_lines(curated / "removed" / "sample.jsonl"))
    kept = {row["source"]: row for row in _lines(curated / "kept" / "sample.jsonl")}
    for row in removed["sample:harmful"]:
        assert row["removed_by"]["stage"] == "harm"
        assert row["removed_by"]["rule"].startswith("policy bastion-default@")
    assert removed["sample:exact_duplicate"][0]["removed_by"]["reason"] == "exact_duplicate"
    assert removed["sample:near_duplicate"][0]["removed_by"]["reason"] == "near_duplicate"
    assert removed["sample:injection"][0]["removed_by"]["stage"] == "injection"
    assert removed["sample:spam"][0]["removed_by"]["stage"] == "quality"
    assert "sample:history" in kept  # discussion of violence stays in pre-training data
    assert "harm:refusal_example" in kept["sample:refusal_example"]["curation"]["flags"]
    pii = [
        row for row in _lines(curated / "kept" / "sample.jsonl") if row["source"] == "sample:pii"
    ]
    assert len(pii) == 2
    assert "jane.doe@example.com" not in json.dumps(pii)
    assert "[EMAIL]" in pii[0]["text"]
    assert pii[0]["curation"]["redacted"]


def test_the_report_has_its_plots(curated: Path) -> None:
    html = (curated / "report.html").read_text("utf-8")
    assert html.count("<img") >= 3
    record = json.loads((curated / "report.json").read_text("utf-8"))
    assert record["kind"] == "curation_report"
    assert (curated / "report.md").read_text("utf-8").startswith("#")


def test_list_stages_shows_every_stage() -> None:
    done = _bastion("curate", "--list-stages")
    assert done.returncode == 0, done.stderr
    for name in ("quality", "language", "pii", "toxicity", "injection", "harm", "dedup"):
        assert name in done.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("nope.jsonl", "--out", "x"), "no such file or folder"),
        ((SAMPLE, "--out", "x", "--context", "nope"), "unknown curation context"),
        ((SAMPLE,), "--out"),
    ],
)
def test_mistakes_are_one_clear_line(args: tuple[str, ...], message: str, tmp_path: Path) -> None:
    done = _bastion("curate", *[tmp_path / a if a == "x" else a for a in args])
    assert done.returncode != 0
    assert message in done.stderr
    assert "Traceback" not in done.stderr


def test_bad_input_is_reported_per_row_with_the_default_stages(tmp_path: Path) -> None:
    """Broken JSON, binary bytes, a wrong schema and a 1 MB row: each is one row of the
    output (errors or removed/kept), the run finishes, nothing is lost."""
    huge = {"text": "All work and no play makes Jack a dull boy. " * 24_000}  # ~1 MB
    lines = [
        json.dumps({"text": "A short, ordinary sentence about gardening in spring."}).encode(),
        b"{not json",
        bytes(range(128, 256)) * 8,
        json.dumps({"text": 42}).encode(),
        json.dumps({"messages": "not a list"}).encode(),
        json.dumps(huge).encode(),
    ]
    source = tmp_path / "bad.jsonl"
    source.write_bytes(b"\n".join(lines) + b"\n")
    out = tmp_path / "out"
    done = _bastion("curate", source, "--out", out)
    assert done.returncode == 0, done.stderr
    counts = {part: len(_lines(out / part / "bad.jsonl")) for part in ("kept", "removed", "errors")}
    assert sum(counts.values()) == len(lines)
    assert counts["errors"] == 4
    removed = _lines(out / "removed" / "bad.jsonl")
    assert any(r["line"] == 6 for r in removed)  # the 1 MB row, removed as repetitive
