"""Resumable runs: answers are recorded as they are given and replayed on resume."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from bastion.cli.app import app
from bastion.eval import (
    Answer,
    Conversation,
    SuiteDeps,
    build_suite_registry,
    resolve_suites,
    run_suites,
    scripted_assistant,
)
from bastion.eval.resume import Recording, recorded_answers
from bastion.records import RecordWriter, read_records


class Counting:
    """Counts the questions that reach the scripted assistant."""

    def __init__(self) -> None:
        self.inner = scripted_assistant()
        self.name = "fake"
        self.asked = 0

    def answer(self, conversation: Conversation) -> Answer:
        self.asked += 1
        return self.inner.answer(conversation)


def _run(path: Path, deps: SuiteDeps, target: Counting, *, resume: bool) -> None:
    plugins = resolve_suites("over_refusal,sycophancy", build_suite_registry())
    known = recorded_answers(path, target.name) if resume else {}
    with RecordWriter(path) as writer:
        run_suites(target, plugins, deps, recording=Recording(writer, known))


def test_a_killed_run_resumes_without_asking_again(tmp_path: Path, deps: SuiteDeps) -> None:
    path = tmp_path / "results.jsonl"
    first = Counting()
    _run(path, deps, first, resume=False)
    lines = path.read_bytes().splitlines(keepends=True)
    answers = [r for r in read_records(path) if r.payload["type"] == "answer"]
    assert len(answers) == first.asked > 0
    kept = lines[: len(lines) // 3]
    path.write_bytes(b"".join(kept) + lines[len(kept)][:25])  # killed mid-write
    second = Counting()
    _run(path, deps, second, resume=True)
    assert 0 < second.asked < first.asked
    assert len(recorded_answers(path, "fake")) >= len(recorded_answers(path, "other")) == 0


def test_cli_resume(tmp_path: Path) -> None:
    runner = CliRunner()
    args = ["eval", "--suite", "encouraged", "--target", "fake", "--limit", "5"]
    out = ["--out", str(tmp_path)]
    assert runner.invoke(app, [*args, *out]).exit_code == 0
    result = runner.invoke(app, [*args, *out, "--resume"])
    assert result.exit_code == 0, result.output
    assert "resumed: 5 recorded answers" in result.stdout
    answers = [r for r in read_records(tmp_path / "results.jsonl") if r.payload["type"] == "answer"]
    assert len(answers) == 5
