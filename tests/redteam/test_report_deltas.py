"""Run diffs carry one interval of the difference (Newcombe), not two overlapping ones."""

from __future__ import annotations

import pytest

from bastion.core import stats
from bastion.redteam.report import Diff, Rate, wilson
from bastion.redteam.report.render import markdown_report
from bastion.redteam.report.stats import rate_difference, summarize


def test_the_report_wilson_is_the_core_one() -> None:
    assert wilson is stats.wilson
    assert Rate(0, 5).interval[1] > 0.0 and Rate(5, 5).interval[0] < 1.0


def test_family_delta_has_a_newcombe_interval() -> None:
    old, new = Rate(56, 70), Rate(48, 80)
    diff = Diff({"obfuscation": (old, new)}, fixed=(), broken=())
    delta, low, high = diff.delta("obfuscation")
    assert (delta, low, high) == rate_difference(old, new)
    assert delta == pytest.approx(-0.2)
    assert (low, high) == pytest.approx((-0.3339, -0.0524), abs=1e-4)
    row = diff.to_dict()["by_family"]["obfuscation"]
    assert row["delta"] == -0.2 and row["delta_ci95"] == [-0.3339, -0.0524]


def test_unchanged_zero_rates_still_have_a_two_sided_interval() -> None:
    diff = Diff({"roleplay": (Rate(0, 12), Rate(0, 12))}, fixed=(), broken=())
    low, high = diff.to_dict()["by_family"]["roleplay"]["delta_ci95"]
    assert low < 0.0 < high


def test_markdown_diff_table_shows_the_interval() -> None:
    diff = Diff({"obfuscation": (Rate(56, 70), Rate(48, 80))}, fixed=(), broken=())
    text = markdown_report(summarize([]), diff)
    assert "delta [95 % CI, Newcombe]" in text and "-20% [-33%, -5%]" in text
