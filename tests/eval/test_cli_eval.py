"""``bastion eval``: records, reports and clean errors, on the scripted target."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from bastion.cli.app import app
from bastion.records import RecordKind, read_records

runner = CliRunner()


def test_eval_writes_records_and_reports(tmp_path: Path) -> None:
    out = tmp_path / "run"
    args = ["eval", "--suite", "over_refusal,sycophancy", "--target", "fake", "--limit", "6"]
    result = runner.invoke(app, [*args, "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "benign_pass_rate" in result.stdout and "flip_rate" in result.stdout
    records = list(read_records(out / "results.jsonl"))
    assert records and {r.kind for r in records} == {RecordKind.EVAL_RESULT}
    summaries = [r.payload for r in records if r.payload["type"] == "suite"]
    assert [s["suite"] for s in summaries] == ["over_refusal", "sycophancy"]
    assert len({r.payload["run_id"] for r in records}) == 1
    data = json.loads((out / "report.json").read_text("utf-8"))
    assert data["target"] == "fake" and data["trade_off"]["benign_pass"]["n"] == 6
    assert "## sycophancy" in (out / "report.md").read_text("utf-8")
    assert "data:image/png;base64," in (out / "report.html").read_text("utf-8")


def test_eval_guard_target_with_config(tmp_path: Path) -> None:
    config = tmp_path / "guard.yaml"
    config.write_text("layers:\n  - type: rules\n", "utf-8")
    args = ["eval", "--suite", "under_refusal", "--limit", "5", "--config", str(config)]
    result = runner.invoke(app, [*args, "--out", str(tmp_path / "o")])
    assert result.exit_code == 0, result.output
    assert "unsafe_catch_rate" in result.stdout


def test_eval_unknown_suite_is_a_clean_error(tmp_path: Path) -> None:
    result = runner.invoke(app, ["eval", "--suite", "nope", "--out", str(tmp_path)])
    assert result.exit_code == 1
    assert result.stderr.startswith("error: unknown suite 'nope'")


def test_eval_unknown_target_is_a_clean_error(tmp_path: Path) -> None:
    result = runner.invoke(app, ["eval", "--target", "gpt-9", "--out", str(tmp_path)])
    assert result.exit_code == 1 and "unknown target" in result.stderr


def test_eval_list() -> None:
    result = runner.invoke(app, ["eval", "list"])
    assert result.exit_code == 0
    for name in ("under_refusal", "over_refusal", "consistency", "sycophancy", "response_mode"):
        assert name in result.stdout


def test_eval_out_that_is_a_file_is_a_clean_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x", "utf-8")
    args = ["eval", "--suite", "over_refusal", "--limit", "2", "--out", str(blocker / "sub")]
    result = runner.invoke(app, args)
    assert result.exit_code == 1 and result.stderr.startswith("error:")


def test_eval_target_with_its_own_config(tmp_path: Path) -> None:
    config = tmp_path / "guard-mine.yaml"
    config.write_text("layers:\n  - type: rules\n", "utf-8")
    args = ["eval", "--suite", "encouraged", "--limit", "4", "--target", f"guard@{config}"]
    result = runner.invoke(app, [*args, "--out", str(tmp_path / "o")])
    assert result.exit_code == 0, result.output
    assert "encouraged_rate" in result.stdout and "guard@mine" in result.stdout


def test_eval_missing_api_key_variable_is_a_clean_error(tmp_path: Path) -> None:
    args = ["eval", "--target", "openai:http://127.0.0.1:9/v1", "--api-key-env", "NO_SUCH_VAR_X"]
    result = runner.invoke(app, [*args, "--out", str(tmp_path)], env={"NO_SUCH_VAR_X": ""})
    assert result.exit_code == 1 and "NO_SUCH_VAR_X" in result.stderr


def test_eval_compare_two_runs_and_baseline(tmp_path: Path) -> None:
    base = ["eval", "--suite", "encouraged", "--limit", "6"]
    assert (
        runner.invoke(app, [*base, "--target", "fake", "--out", str(tmp_path / "a")]).exit_code == 0
    )
    args = [
        *base,
        "--target",
        "guard",
        "--out",
        str(tmp_path / "b"),
        "--baseline",
        str(tmp_path / "a"),
    ]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "B - A" in result.stdout and (tmp_path / "b" / "compare.md").is_file()
    data = json.loads((tmp_path / "b" / "compare.json").read_text("utf-8"))
    assert data["diffs"][0]["metric"] == "encouraged_rate"
    assert data["diffs"][0]["verdict"] in ("better", "worse", "unclear")
    result = runner.invoke(app, ["eval", "compare", str(tmp_path / "a"), str(tmp_path / "nope")])
    assert result.exit_code == 1 and "cannot read" in result.stderr
