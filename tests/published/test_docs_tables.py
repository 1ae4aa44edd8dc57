"""Docs tables are rendered from results JSON: blocks, kinds, and the repository's docs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bastion.cli.app import app
from bastion.core.errors import InputError
from bastion.published import TABLE_KINDS, check_docs, render_docs, render_table, render_text
from bastion.published.runs import published_run
from bastion.published.tables import proportion_cell

ROOT = Path(__file__).resolve().parents[2]


def _rate(k: int, n: int) -> dict[str, int]:
    return {"successes": k, "trials": n, "errors": 0}


def _run(label: str, k: int, n: int, *, independent: bool = True) -> dict[str, object]:
    return {
        "label": label,
        "target": "embedded:smollm2",
        "split": "test",
        "judge": {"name": "reference", "independent": independent},
        "report": {"overall": _rate(k, n), "by_family": {"roleplay": _rate(k, n)}},
        "benign": {"benign_pass": _rate(n - 1, n)},
    }


def _page(tmp_path: Path, body: str = "stale\n") -> Path:
    (tmp_path / "a.json").write_text(json.dumps(_run("A", 3, 10)), encoding="utf-8")
    (tmp_path / "b.json").write_text(json.dumps(_run("B", 0, 10)), encoding="utf-8")
    page = tmp_path / "page.md"
    page.write_text(
        "# Title\n\n<!-- results: redteam_change a.json b.json -->\n"
        f"{body}<!-- /results -->\n\nprose stays\n",
        encoding="utf-8",
    )
    return page


def test_a_block_is_rendered_from_its_json_and_prose_is_kept(tmp_path: Path) -> None:
    page = _page(tmp_path)
    assert check_docs([tmp_path]) == [page]
    assert render_docs([tmp_path]) == [page]
    text = page.read_text(encoding="utf-8")
    assert "stale" not in text and "prose stays" in text and "# Title" in text
    assert "30.0% [10.8%, 60.3%] (3/10)" in text
    assert "Newcombe" in text and "-30.0%" in text
    assert check_docs([tmp_path]) == []  # idempotent
    assert render_docs([tmp_path]) == []


def test_cli_check_fails_on_a_stale_table(tmp_path: Path) -> None:
    _page(tmp_path)
    runner = CliRunner()
    assert runner.invoke(app, ["docs", "check", str(tmp_path)]).exit_code == 1
    assert runner.invoke(app, ["docs", "render", str(tmp_path)]).exit_code == 0
    assert runner.invoke(app, ["docs", "check", str(tmp_path)]).exit_code == 0


def test_no_interval_has_zero_width() -> None:
    assert proportion_cell(0, 4) == "0.0% [0.0%, 49.0%] (0/4)"
    assert proportion_cell(4, 4) == "100.0% [51.0%, 100.0%] (4/4)"
    assert proportion_cell(0, 0) == "n/a (0/0)"


def test_self_judged_is_said_in_the_table() -> None:
    text = render_table("redteam_runs", [_run("A", 1, 2, independent=False)])
    assert "**self-judged**" in text


def test_every_kind_is_known_and_errors_are_clear() -> None:
    assert set(TABLE_KINDS) >= {"redteam_runs", "harden_rounds", "judge_agreement", "eval_metrics"}
    with pytest.raises(InputError, match="unknown results table kind"):
        render_table("nope", [{}])
    with pytest.raises(InputError, match="lacks"):
        render_table("redteam_runs", [{"label": "x"}])
    with pytest.raises(InputError, match="cannot read"):
        render_text(
            "<!-- results: redteam_runs missing.json -->\n<!-- /results -->", Path("/nowhere")
        )


def test_a_published_run_keeps_the_numbers_and_drops_transcripts(tmp_path: Path) -> None:
    report = {"overall": _rate(1, 2), "by_family": {}, "examples": [{"turns": ["..."]}]}
    (tmp_path / "report.json").write_text(json.dumps(report), encoding="utf-8")
    meta = {"target": "guard", "split": "test", "judge": "auto", "run_id": "r"}
    (tmp_path / "run.json").write_text(json.dumps(meta), encoding="utf-8")
    run = published_run(tmp_path, "guard alone")
    assert run["split"] == "test" and "examples" not in run["report"] and run["benign"] is None


def test_the_repository_docs_match_their_results_json() -> None:
    assert check_docs([ROOT / "docs"]) == [], "run `bastion docs render`"
