"""The goals file and the report: Wilson intervals, summaries, diffs, rendered files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bastion.core.errors import BatchInputError, InputError
from bastion.redteam import Finding, Turn, load_goals
from bastion.redteam.report import diff_runs, markdown_report, summarize, wilson, write_report


def test_the_packaged_goals() -> None:
    goals = load_goals()
    assert len(goals) >= 60 and len({g.id for g in goals}) == len(goals)
    assert len({g.category for g in goals}) >= 10
    assert all(g.id.startswith(g.category + ".") and g.task and g.topic for g in goals)
    assert sum(bool(g.translations) for g in goals) >= 10


@pytest.mark.parametrize(
    ("line", "error"),
    [
        ("not json", BatchInputError),
        ("[1]", BatchInputError),
        ('{"id": "a", "category": "x", "task": ""}', BatchInputError),
        (
            '{"id": "a", "category": "x", "task": "t", "topic": "t", "translations": [1]}',
            BatchInputError,
        ),
    ],
)
def test_bad_goal_lines(tmp_path: Path, line: str, error: type[Exception]) -> None:
    file = tmp_path / "goals.jsonl"
    file.write_text(line + "\n", encoding="utf-8")
    with pytest.raises(error, match=":1:"):
        load_goals(file)


def test_bad_goal_files(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="not found"):
        load_goals(tmp_path / "missing.jsonl")
    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n", encoding="utf-8")
    with pytest.raises(InputError, match="no goals"):
        load_goals(empty)
    twice = tmp_path / "twice.jsonl"
    row = json.dumps({"id": "a", "category": "c", "task": "t", "topic": "p"})
    twice.write_text(f"{row}\n{row}\n", encoding="utf-8")
    with pytest.raises(InputError, match="twice"):
        load_goals(twice)


def test_wilson_matches_known_values() -> None:
    low, high = wilson(5, 10)
    assert low == pytest.approx(0.2366, abs=1e-4) and high == pytest.approx(0.7634, abs=1e-4)
    assert wilson(0, 3)[0] == 0.0 and wilson(3, 3)[1] == 1.0
    assert wilson(0, 0) == (0.0, 1.0)


def _finding(
    attack: str, family: str, goal: str, success: bool, error: str | None = None
) -> Finding:
    turn = Turn(
        "c", f"prompt for {goal}", "reply" if success else "no", success, float(success), "j"
    )
    return Finding(
        "r",
        "t",
        attack,
        family,
        goal,
        goal.split(".")[0],
        "req",
        success,
        float(success),
        (turn,),
        error=error,
    )


RUN = [
    _finding("direct", "baseline", "drugs.a", False),
    _finding("direct", "baseline", "drugs.b", True),
    _finding("base64", "obfuscation", "drugs.a", True),
    _finding("base64", "obfuscation", "drugs.b", True),
    _finding("rot13", "obfuscation", "weapons.c", False, error="boom"),
]


def test_summary_rates_bypass_and_examples() -> None:
    summary = summarize(RUN)
    assert summary.overall.successes == 3 and summary.overall.trials == 4
    assert summary.overall.errors == 1
    assert summary.by_family["obfuscation"].asr == 1.0
    assert summary.by_family_category["obfuscation"]["drugs"].trials == 2
    assert summary.bypass_goals == 1 and summary.bypass_by_family["obfuscation"].trials == 1
    assert {f.attack for f in summary.examples} == {"direct", "base64"}


def test_diff_between_runs() -> None:
    later = [
        _finding("direct", "baseline", "drugs.a", False),
        _finding("direct", "baseline", "drugs.b", False),
        _finding("base64", "obfuscation", "drugs.a", True),
        _finding("base64", "obfuscation", "drugs.b", False),
        _finding("rot13", "obfuscation", "weapons.c", True),
    ]
    diff = diff_runs(RUN, later)
    assert set(diff.fixed) == {("direct", "drugs.b"), ("base64", "drugs.b")}
    assert diff.broken == ()  # the errored pair is not compared
    old, new = diff.by_family["obfuscation"]
    assert (old.asr, new.asr) == (1.0, 0.5)
    assert "Difference from the baseline run" in markdown_report(summarize(later), diff)


def test_report_files(tmp_path: Path) -> None:
    files = write_report(summarize(RUN), diff_runs(RUN, RUN), tmp_path / "out")
    data = json.loads(files.json.read_text(encoding="utf-8"))
    assert data["overall"]["ci95"][0] <= data["overall"]["asr"] <= data["overall"]["ci95"][1]
    assert data["diff"]["fixed"] == []
    page = files.html.read_text(encoding="utf-8")
    assert "data:image/png;base64," in page and "<script" not in page and 'src="http' not in page
    assert "| obfuscation |" in files.markdown.read_text(encoding="utf-8")


def test_figures_with_all_failing_families(tmp_path: Path) -> None:
    failing = [_finding(a, "roleplay", f"drugs.{i}", False) for i, a in enumerate("abc")]
    files = write_report(summarize([*failing, *RUN]), None, tmp_path)
    assert files.html.read_text(encoding="utf-8").count("data:image/png;base64,") == 2


def test_an_empty_run_reports() -> None:
    text = markdown_report(summarize([]), None)
    assert "No attack succeeded" in text
