"""``bastion redteam list|run|report`` against the default guard (rules only: fast)."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from bastion.cli.redteam_cmd import redteam_app
from bastion.records import read_records
from bastion.records.model import RecordKind
from bastion.redteam import build_attack_registry, read_findings

runner = CliRunner()


def test_list_shows_every_attack() -> None:
    result = runner.invoke(redteam_app, ["list"])
    assert result.exit_code == 0, result.output
    assert "crescendo" in result.stdout and "obfuscation" in result.stdout
    data = json.loads(runner.invoke(redteam_app, ["list", "--json"]).stdout)
    assert {row["name"] for row in data} == set(build_attack_registry().names())


def _run(out: Path, *extra: str) -> str:
    args = ["run", "--target", "guard", "--attacks", "direct,base64,crescendo", "--out", str(out)]
    result = runner.invoke(redteam_app, [*args, *extra])
    assert result.exit_code == 0, result.output
    return result.stdout


def test_run_resume_and_report(tmp_path: Path) -> None:
    out = tmp_path / "run"
    text = _run(out, "--limit", "3")
    assert "9 new findings" in text and "baseline" in text
    records = list(read_records(out / "findings.jsonl"))
    assert len(records) == 9 and all(r.kind is RecordKind.REDTEAM_FINDING for r in records)
    assert {"report.json", "report.md", "report.html", "run.json"} <= {
        p.name for p in out.iterdir()
    }
    again = runner.invoke(redteam_app, ["run", "--out", str(out)])
    assert again.exit_code == 1 and "--resume" in again.output
    assert "6 new findings" in _run(out, "--limit", "5", "--resume")
    assert len(read_findings(out / "findings.jsonl")) == 15
    other = tmp_path / "strict"
    _run(other, "--limit", "5", "--no-count-caution")
    result = runner.invoke(redteam_app, ["report", str(other), "--baseline", str(out)])
    assert result.exit_code == 0, result.output
    assert json.loads((other / "report.json").read_text(encoding="utf-8"))["diff"] is not None


def test_bad_flags_are_clean_errors(tmp_path: Path) -> None:
    result = runner.invoke(redteam_app, ["run", "--attacks", "nope", "--out", str(tmp_path)])
    assert result.exit_code == 1 and "unknown attack 'nope'" in result.output
    result = runner.invoke(
        redteam_app, ["run", "--target", "http://x", "--out", str(tmp_path / "b")]
    )
    assert result.exit_code == 1 and "unknown target" in result.output
    result = runner.invoke(redteam_app, ["run", "--judge", "llm", "--out", str(tmp_path / "c")])
    assert result.exit_code == 2
    result = runner.invoke(
        redteam_app, ["run", "--judge", "llm:gpt4", "--out", str(tmp_path / "d")]
    )
    assert result.exit_code == 2 and "llm:qwen" in result.output
    result = runner.invoke(
        redteam_app, ["run", "--judge", "llm:smollm2", "--out", str(tmp_path / "e")]
    )
    assert result.exit_code == 2 and "the guard has none" in result.output
    assert not (tmp_path / "e").exists()


def test_block_harmful_thresholds_are_recorded(tmp_path: Path) -> None:
    out = tmp_path / "blocking"
    flags = ("--limit", "1", "--block-harmful", "--harm-threshold", "0.4")
    _run(out, *flags, "--allowed-harm-threshold", "1.01")
    meta = json.loads((out / "run.json").read_text(encoding="utf-8"))
    assert "0.4" in json.dumps(meta) and "1.01" in json.dumps(meta)
    unset = tmp_path / "unset"
    _run(unset, "--limit", "1")
    assert '"harm_block": null' in (unset / "run.json").read_text(encoding="utf-8")
