"""The pinned train / dev / test manifest, and that nothing that chooses can read test."""

from __future__ import annotations

import ast
from dataclasses import fields
from pathlib import Path

import pytest

from bastion.redteam import load_goals
from bastion.redteam.harden import HardenDeps
from bastion.redteam.splits import build_manifest, diff_manifest, goals_of_split, load_manifest

ROOT = Path(__file__).resolve().parents[2]
SHARED = ROOT.parent / "shared" / "data"
HARDEN = ROOT / "src" / "bastion" / "redteam" / "harden"
TRAINING = ROOT / "src" / "bastion" / "training"
CHOOSING = (
    TRAINING / "fit.py",  # calibration and operating thresholds of the prompt classifier
    TRAINING / "finetune.py",
    TRAINING / "response_fit.py",
    TRAINING / "injection_fit.py",
    HARDEN / "loop.py",
    HARDEN / "campaign.py",
    HARDEN / "head.py",
    HARDEN / "pool.py",
    HARDEN / "regression.py",
    HARDEN / "examples.py",
    ROOT / "benchmarks" / "harm_block_dev.py",
)
"""Code that chooses (rounds, early stopping, thresholds, model fits, training rows): none
of it may name the test split. Only ``harden/final.py``, the CLI, the eval suites and the
report modules read it."""


@pytest.mark.skipif(not SHARED.is_dir(), reason="../shared/data is not beside the checkout")
def test_the_manifest_is_what_the_code_and_data_split_now() -> None:
    assert diff_manifest(load_manifest(), build_manifest(SHARED)) == []


def test_manifest_sides_are_disjoint_and_cover_every_goal() -> None:
    data = load_manifest()
    for name in ("redteam_goals", "benign_goals"):
        sides = [set(data[name][s]) for s in ("train", "dev", "test")]
        assert all(a.isdisjoint(b) for i, a in enumerate(sides) for b in sides[i + 1 :])
    assert sum(len(data["redteam_goals"][s]) for s in ("train", "dev", "test")) == len(load_goals())
    for attack, by_side in data["attack_variants"].items():
        assert set(by_side["train"]).isdisjoint(by_side["dev"] + by_side["test"]), attack
    for name in ("benign_prompts", "lookalikes"):
        assert all(data[name][s]["count"] > 0 for s in ("train", "dev", "test"))


def test_goals_of_split_follows_the_manifest() -> None:
    data, goals = load_manifest(), load_goals()
    for side in ("train", "dev", "test"):
        assert [g.id for g in goals_of_split(goals, side)] == data["redteam_goals"][side]
    assert goals_of_split(goals, "all") == goals
    with pytest.raises(Exception, match="unknown split"):
        goals_of_split(goals, "fresh")


def _names_test(path: Path) -> list[int]:
    """Lines of ``path`` with the string constant "test" or a call of measure_test."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    lines = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and node.value in ("test", "contrast_test"):
            lines.append(node.lineno)
        if isinstance(node, ast.Name | ast.Attribute) and "measure_test" in ast.unparse(node):
            lines.append(node.lineno)
    return lines


@pytest.mark.parametrize("path", CHOOSING, ids=lambda p: p.name)
def test_no_choosing_code_path_names_the_test_split(path: Path) -> None:
    assert _names_test(path) == [], f"{path.name} reads the test split"


def test_the_loop_is_given_no_test_data() -> None:
    names = {f.name for f in fields(HardenDeps)}
    assert "dev_benign_prompts" in names
    assert not {n for n in names if "test" in n or "held_out" in n}
