"""``--limit`` with ``--sample-seed``: a seeded sample stratified by each suite's strata."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bastion.cli.app import app
from bastion.eval import RunSettings, SuiteDeps, build_suite_registry, run_suites
from bastion.eval.fakes import scripted_assistant
from bastion.eval.suite import select
from bastion.policy import Policy
from bastion.records import read_records

SIZES = {"a": 50, "b": 30, "c": 3, "d": 1}
ITEMS = [(name, i) for name, size in SIZES.items() for i in range(size)]


def _key(item: tuple[str, int]) -> str:
    return f"{item[0]}:{item[1]}"


def _stratum(item: tuple[str, int]) -> str:
    return item[0]


def _draw(limit: int, seed: int | None) -> list[tuple[str, int]]:
    return select(ITEMS, limit, _key, stratum=_stratum, seed=seed)


def test_stratified_sample_is_proportional_and_covers_every_stratum() -> None:
    chosen = _draw(10, 0)
    assert len(chosen) == 10
    assert Counter(name for name, _ in chosen) == {"a": 5, "b": 3, "c": 1, "d": 1}
    assert chosen == sorted(chosen, key=ITEMS.index)  # original order kept


@pytest.mark.parametrize("limit", [1, 3, 4, 5, 17, 40, 83])
def test_stratified_sample_size_and_bounds(limit: int) -> None:
    chosen = _draw(limit, 3)
    assert len(chosen) == limit == len(set(chosen))
    counts = Counter(name for name, _ in chosen)
    assert all(counts[name] <= size for name, size in SIZES.items())
    if limit >= len(SIZES):
        assert set(counts) == set(SIZES)


def test_stratified_sample_is_seeded() -> None:
    assert _draw(12, 0) == _draw(12, 0)
    assert _draw(12, 0) != _draw(12, 1)
    assert _draw(len(ITEMS), 5) == ITEMS and _draw(10**6, 5) == ITEMS


def test_without_a_seed_the_fixed_hash_ordered_sample_is_unchanged() -> None:
    legacy = select(ITEMS, 10, _key)
    assert select(ITEMS, 10, _key, stratum=_stratum) == legacy
    assert len(legacy) == 10 and select(ITEMS, None, _key, seed=1) == ITEMS


def test_every_suite_honours_the_stratified_sample(policy: Policy) -> None:
    deps = SuiteDeps(policy=policy, settings=RunSettings(limit=8, sample_seed=0))
    target = scripted_assistant(["I can't help with that."])
    report = run_suites(target, list(build_suite_registry()), deps)
    assert report.settings["sample_seed"] == 0
    for suite in report.suites:
        if suite.skipped:
            continue
        assert suite.metrics, suite.suite
        if suite.suite == "consistency":
            assert 0 < sum(1 for i in suite.items if i.group in ("safe", "unsafe")) <= 8
        elif suite.suite == "response_mode":
            assert len(suite.items) <= 8 * len(policy.contexts)
        else:
            assert len(suite.items) <= 8, suite.suite


def test_cli_sample_seed_and_threads(tmp_path: Path) -> None:
    out = tmp_path / "run"
    args = ["eval", "--suite", "encouraged", "--target", "fake", "--limit", "8"]
    result = CliRunner().invoke(
        app, [*args, "--sample-seed", "4", "--threads", "1", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    data = json.loads((out / "report.json").read_text("utf-8"))
    assert data["settings"]["sample_seed"] == 4 and data["settings"]["limit"] == 8
    items = [r.payload for r in read_records(out / "results.jsonl")]
    behaviours = {i["group"] for i in items if i["type"] == "item"}
    assert len(behaviours) == 4  # every behaviour is in the stratified sample
