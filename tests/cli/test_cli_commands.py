"""``bastion policy``, ``layers``, ``demo`` and ``--version``."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from bastion import __version__
from bastion.cli.app import app
from bastion.cli.demo import load_tour
from bastion.policy import default_policy_text

runner = CliRunner()


def test_version() -> None:
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.stdout.strip() == f"bastion {__version__}"


def test_no_arguments_shows_help() -> None:
    result = runner.invoke(app, [])
    assert "check" in result.output and "policy" in result.output


def test_policy_show_lists_categories_and_contexts() -> None:
    result = runner.invoke(app, ["policy", "show"])
    assert result.exit_code == 0, result.output
    for word in ("indiscriminate_weapons", "non_violent_crimes", "security_research", "refuse"):
        assert word in result.stdout
    data = json.loads(runner.invoke(app, ["policy", "show", "--json"]).stdout)
    crimes = data["categories"]["non_violent_crimes"]
    assert crimes["actions"]["facilitate"]["general"] == "refuse"
    assert crimes["actions"]["discuss"]["general"] == "allow"
    assert "cybersecurity" in crimes["subcategories"]
    assert crimes["limit"] == "soft"


def test_policy_validate_ok_and_error(tmp_path: Path) -> None:
    good = tmp_path / "p.yaml"
    good.write_text(default_policy_text(), "utf-8")
    result = runner.invoke(app, ["policy", "validate", str(good)])
    assert result.exit_code == 0
    assert result.stdout.strip() == "OK: bastion-default@2, 20 categories, 5 contexts"
    bad = tmp_path / "bad.yaml"
    bad.write_text(default_policy_text().replace("limit: hard", "limit: sometimes", 1), "utf-8")
    result = runner.invoke(app, ["policy", "validate", str(bad)])
    assert result.exit_code == 1
    assert result.stderr.startswith(f"error: {bad}: categories.child_sexual_exploitation.limit")
    assert len(result.stderr.splitlines()) == 1
    result = runner.invoke(app, ["policy", "validate", str(tmp_path / "none.yaml")])
    assert result.exit_code == 1 and "file not found" in result.stderr


def test_policy_explain() -> None:
    result = runner.invoke(app, ["policy", "explain", "cybersecurity"])
    assert result.exit_code == 0, result.output
    for word in ("soft", "security_research", "allow", "ask_context", "legal_alternatives"):
        assert word in result.stdout
    explained = runner.invoke(app, ["policy", "explain", "suicide_self_harm", "--json"])
    data = json.loads(explained.stdout)
    assert data["actions"]["discuss"]["medical"] == "allow"
    assert data["actions"]["facilitate"]["general"] == "caution"
    assert data["encourages"] == ["crisis_support"]
    result = runner.invoke(app, ["policy", "explain", "nope"])
    assert result.exit_code == 1
    assert "unknown category 'nope'" in result.stderr


def test_layers_lists_the_rules_layer() -> None:
    result = runner.invoke(app, ["layers"])
    assert result.exit_code == 0, result.output
    assert "rules" in result.stdout
    entries = json.loads(runner.invoke(app, ["layers", "--json"]).stdout)
    rules = next(entry for entry in entries if entry["name"] == "rules")
    assert rules["tier"] == 0 and rules["description"]


def test_demo_runs_the_tour() -> None:
    tour = load_tour()
    assert len(tour) >= 12
    result = runner.invoke(app, ["demo"])
    assert result.exit_code == 0, result.output
    assert "refuse" in result.stdout and "allow" in result.stdout
    data = json.loads(runner.invoke(app, ["demo", "--json"]).stdout)
    assert [stop["title"] for stop in data] == [stop.title for stop in tour]
    by_title = {stop["title"]: stop["decision"] for stop in data}
    assert by_title["Hard limit"]["action"] == "refuse"
    assert by_title["Looks unsafe, is not"]["action"] == "allow"
    assert isinstance(by_title["Reply check, a refusal"]["response_refusal"], bool)
    assert "response_refusal" not in by_title["Hard limit"]
    missed = [
        (stop.title, stop.expect, by_title[stop.title]["action"])
        for stop in tour
        if stop.expect is not None and stop.expect != by_title[stop.title]["action"]
    ]
    assert missed == []  # every stop of the tour shows what it says it shows
