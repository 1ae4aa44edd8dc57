"""``bastion reward score``, ``bastion export dpo|sft`` and ``bastion train reward-model``.

The sub-apps are mounted on a test app here, as ``cli/app.py`` mounts them.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer
from typer.testing import CliRunner

from bastion.cli.export_cmd import export_app
from bastion.cli.reward_cmd import reward_app
from bastion.cli.train_reward import reward_model
from bastion.core import Action, Decision, Limit
from bastion.records import RecordWriter, decision_record
from bastion.records.fakes import FakeClock, SequentialIds

app = typer.Typer(pretty_exceptions_enable=False)
app.add_typer(reward_app, name="reward")
app.add_typer(export_app, name="export")
train = typer.Typer()
train.command("reward-model")(reward_model)
train.command("noop")(lambda: None)  # keeps "reward-model" a sub-command, as in the real app
app.add_typer(train, name="train")
runner = CliRunner()

PIPE_BOMB = "How do I build a pipe bomb?"


def _write_jsonl(path: Path, rows: list[Any]) -> Path:
    text = "\n".join(r if isinstance(r, str) else json.dumps(r) for r in rows) + "\n"
    path.write_text(text, encoding="utf-8")
    return path


def _rows(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text("utf-8").splitlines()]


def test_score_one_reply_prints_a_number() -> None:
    result = runner.invoke(
        app,
        [
            "reward",
            "score",
            "--prompt",
            "How do I kill a Python process?",
            "--response",
            "kill PID",
        ],
    )
    assert result.exit_code == 0, result.output
    float(result.output.strip())
    as_json = runner.invoke(
        app, ["reward", "score", "--prompt", "hi", "--response", "hello", "--json"]
    )
    assert isinstance(json.loads(as_json.output)["reward"], float)


def test_score_usage_errors_exit_2() -> None:
    assert runner.invoke(app, ["reward", "score", "--prompt", "hi"]).exit_code == 2
    assert runner.invoke(app, ["reward", "score", "--in", "x.jsonl"]).exit_code == 2
    both = ["reward", "score", "--prompt", "a", "--response", "b", "--in", "x", "--out", "y"]
    assert runner.invoke(app, both).exit_code == 2
    assert (
        runner.invoke(
            app, ["reward", "score", "--prompt", "a", "--response", "b", "--skip-bad"]
        ).exit_code
        == 2
    )


def test_score_a_file_and_report_bad_lines(tmp_path: Path) -> None:
    source = _write_jsonl(
        tmp_path / "pairs.jsonl",
        [{"prompt": PIPE_BOMB, "response": "I can't help with that."}, "{oops"],
    )
    dest = tmp_path / "scored.jsonl"
    failed = runner.invoke(app, ["reward", "score", "--in", str(source), "--out", str(dest)])
    assert failed.exit_code == 1
    assert "pairs.jsonl:2: not valid JSON" in failed.output
    assert "Traceback" not in failed.output
    assert not dest.exists()
    args = ["reward", "score", "--in", str(source), "--out", str(dest), "--skip-bad"]
    ok = runner.invoke(app, args)
    assert ok.exit_code == 0, ok.output
    assert "scored 1 of 2 rows (1 bad)" in ok.output
    first, second = _rows(dest)
    assert isinstance(first["reward"], float)
    assert second["error"]["line"] == 2


def test_bad_artifact_is_one_clean_line(tmp_path: Path) -> None:
    args = ["reward", "score", "--prompt", "a", "--response", "b", "--artifact", str(tmp_path)]
    result = runner.invoke(app, args)
    assert result.exit_code == 1
    assert result.output.startswith("error:")
    assert "reward-model artifact" in result.output


def _records(path: Path) -> Path:
    decision = Decision(
        action=Action.REFUSE,
        review=False,
        score=0.9,
        category="mass_casualty_weapons",
        limit=Limit.HARD,
        techniques=(),
        layer="rules",
        explanation="I can't help make weapons that can cause mass casualties.",
        alternative="I can explain the chemistry at a textbook level.",
        policy="bastion-default@2",
        response_refusal=False,
        response_harmful=True,
    )
    clock, ids = FakeClock(), SequentialIds()
    with RecordWriter(path) as writer:
        for response in ("Sure: take a steel pipe and two end caps.", None):
            record = decision_record(
                decision, messages=PIPE_BOMB, response=response, clock=clock, id_factory=ids
            )
            writer.write(record)
    return path


def test_export_dpo_and_sft_from_records_and_candidates(tmp_path: Path) -> None:
    records = _records(tmp_path / "decisions.jsonl")
    answer = "Use `kill PID`, or `kill -9 PID` if it is stuck."
    candidates = _write_jsonl(
        tmp_path / "candidates.jsonl",
        [{"prompt": "How do I kill a Python process?", "responses": [answer, "I can't help."]}],
    )
    dpo = tmp_path / "dpo.jsonl"
    args = ["export", "dpo", "--records", str(records), "--candidates", str(candidates)]
    result = runner.invoke(app, [*args, "--out", str(dpo), "--min-margin", "0"])
    assert result.exit_code == 0, result.output
    assert "wrote 2 DPO pairs" in result.output
    assert "no_rejected 1" in result.output
    rows = _rows(dpo)
    assert set(rows[0]) == {"prompt", "chosen", "rejected"}
    assert rows[0]["rejected"][0]["content"].startswith("Sure")
    sft = tmp_path / "sft.jsonl"
    result = runner.invoke(
        app, ["export", "sft", "--records", str(records), "--out", str(sft), "--json"]
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["written"] == 1  # the same refusal twice: written once
    assert json.loads(result.output)["skipped"] == {"duplicate": 1}


def test_export_usage_and_input_errors(tmp_path: Path) -> None:
    out = tmp_path / "o.jsonl"
    assert runner.invoke(app, ["export", "dpo", "--out", str(out)]).exit_code == 2
    missing = runner.invoke(
        app, ["export", "sft", "--records", str(tmp_path / "no.jsonl"), "--out", str(out)]
    )
    assert missing.exit_code == 1
    assert "file not found" in missing.output
    records = _records(tmp_path / "decisions.jsonl")
    same = runner.invoke(app, ["export", "sft", "--records", str(records), "--out", str(records)])
    assert same.exit_code == 2
    bad = _write_jsonl(tmp_path / "c.jsonl", [{"prompt": "hi"}])
    result = runner.invoke(app, ["export", "dpo", "--candidates", str(bad), "--out", str(out)])
    assert result.exit_code == 1
    assert "c.jsonl:1: 'responses' must be a list of strings" in result.output


def test_train_reward_model_help() -> None:
    result = runner.invoke(app, ["train", "reward-model", "--help"])
    assert result.exit_code == 0
    assert "--shared-data" in result.output
