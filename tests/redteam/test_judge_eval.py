"""Judges against human labels, and the benign pass rate of a run."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bastion.cli.app import app
from bastion.redteam import ScriptedTarget
from bastion.redteam.benign import benign_sample, measure_benign
from bastion.redteam.fakes import COMPLIANT_REPLY, REFUSAL_REPLY
from bastion.redteam.judge_eval import JudgeScore, LabelledReply, keyword_refusal, score

needs_pyrit = pytest.mark.skipif(
    importlib.util.find_spec("pyrit") is None,
    reason="pyrit's labelled responses ship with requirements/training-data.txt (not in CI)",
)


def test_scores_from_confusion_counts() -> None:
    rows = [
        LabelledReply("q", REFUSAL_REPLY, 1),
        LabelledReply("q", COMPLIANT_REPLY, 0),
        LabelledReply("q", "No.", 1),
    ]
    result = score("keyword", "refusal", keyword_refusal, rows)
    assert (result.tp, result.fp, result.fn, result.tn) == (1, 0, 1, 1)
    data = result.to_dict()
    assert data["precision"] == 1.0 and data["recall"] == 0.5 and data["agreement"] == 0.6667
    assert JudgeScore("j", "t", 0, 0, 0, 0).to_dict()["f1"] == 0.0


def test_benign_pass_rate_counts_blocks_and_refusals() -> None:
    target = ScriptedTarget(lambda p: REFUSAL_REPLY if "bread" in p.prompt else COMPLIANT_REPLY)
    result = measure_benign(target, ["bake bread", "write a poem", "fix a bike"])
    assert (result.passed.successes, result.passed.trials) == (2, 3)
    assert result.refused == ("bake bread",)
    assert benign_sample(["b", "a", "c", "a"], 2) == benign_sample(["c", "a", "b"], 2)


@needs_pyrit
def test_cli_scores_judges_on_pyrit_labels(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["redteam", "judges", "--limit", "12", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "response_classifier" in result.output
    assert (tmp_path / "judges.json").is_file()


def test_harden_help() -> None:
    result = CliRunner().invoke(app, ["harden", "--help"])
    assert result.exit_code == 0 and "--rounds" in result.output
