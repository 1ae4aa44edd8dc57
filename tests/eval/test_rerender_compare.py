"""Reports rebuilt from report.json (Wilson intervals) and the Newcombe comparison."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from bastion.core.stats import newcombe_difference, wilson
from bastion.eval import (
    EvalReport,
    RunSettings,
    SuiteDeps,
    Target,
    build_suite_registry,
    resolve_suites,
    run_suites,
)
from bastion.eval.compare import compare_reports, comparison_markdown, metric_difference
from bastion.eval.report import markdown_report, report_json, write_reports
from bastion.eval.rerender import (
    metric_counts,
    report_from_json,
    rerender_json,
    rerender_reports,
    with_wilson,
)
from bastion.eval.results import Metric
from bastion.policy import Policy
from bastion.records.fakes import FakeClock


def _report(target: Target, policy: Policy) -> EvalReport:
    plugins = resolve_suites("under_refusal,over_refusal", build_suite_registry())
    deps = SuiteDeps(policy=policy, settings=RunSettings(limit=30))
    return run_suites(target, plugins, deps, clock=FakeClock())


def _old_style(metrics: list[dict[str, Any]]) -> dict[str, Any]:
    """A report.json written with the old bootstrap intervals (zero width at 0/n, n/n)."""
    return {
        "run_id": "r",
        "target": "t",
        "settings": {},
        "started_at": "",
        "finished_at": "",
        "suites": [{"suite": "s", "metrics": metrics, "rows": []}],
    }


def _m(name: str, value: float, n: int, low: float, high: float) -> dict[str, Any]:
    return {"name": name, "value": value, "low": low, "high": high, "n": n}


def test_counts_are_read_back_from_four_decimals() -> None:
    assert metric_counts(Metric("x", round(29 / 42, 4), 0.5, 0.8, 42)) == 29
    assert metric_counts(Metric("x", round(1233 / 1345, 4), 0.9, 0.93, 1345)) == 1233
    assert metric_counts(Metric("x", 0.123456, 0.1, 0.2, 7)) is None  # not k/7
    assert metric_counts(Metric("x", 0.0, 0.0, 0.0, 0)) is None
    again = with_wilson(Metric("x", 1.0, 1.0, 1.0, 4))
    assert (again.low, again.high) == wilson(4, 4) and again.low < 1.0


def test_old_zero_width_intervals_are_rebuilt() -> None:
    data = _old_style([_m("all", 1.0, 4, 1.0, 1.0), _m("none", 0.0, 42, 0.0, 0.0)])
    fresh = rerender_json(data)
    every, nothing = fresh["suites"][0]["metrics"]
    assert every["high"] == 1.0 and every["low"] == round(wilson(4, 4)[0], 4)
    assert nothing["low"] == 0.0 and nothing["high"] == round(wilson(0, 42)[1], 4)
    assert data["suites"][0]["metrics"][0]["low"] == 1.0  # the input is not changed


def test_rerender_of_a_current_report_is_identity(
    always_allow: Target, policy: Policy, tmp_path: Path
) -> None:
    report = _report(always_allow, policy)
    write_reports(report, tmp_path)
    before = json.loads((tmp_path / "report.json").read_text("utf-8"))
    assert rerender_json(before) == before
    written = rerender_reports(tmp_path)
    assert sorted(p.name for p in written) == ["report.html", "report.json", "report.md"]
    assert json.loads((tmp_path / "report.json").read_text("utf-8")) == before
    assert (tmp_path / "report.md").read_text("utf-8") == markdown_report(report)
    html = (tmp_path / "report.html").read_text("utf-8")
    assert html.startswith("<!doctype html>") and "Wilson 95 %" in html


def test_report_from_json_keeps_the_trade_off(always_allow: Target, policy: Policy) -> None:
    data = report_json(_report(always_allow, policy))
    report, summary, groups = report_from_json(json.loads(json.dumps(data)))
    assert [s.suite for s in report.suites] == ["under_refusal", "over_refusal"]
    assert summary.n_unsafe == 30 and len(summary.curve) == len(data["trade_off"]["curve"])
    assert sum(b.count for b in summary.bins) == sum(g.n for g in groups)


def test_compare_uses_newcombe_for_rates() -> None:
    a = _old_style([_m("rate", 0.6, 80, 0.5, 0.7), _m("zero", 0.0, 10, 0.0, 0.0)])
    b = _old_style([_m("rate", 0.8, 70, 0.7, 0.9), _m("zero", 0.0, 10, 0.0, 0.0)])
    rate, zero = compare_reports(a, b)
    assert (rate.diff, rate.low, rate.high) == pytest.approx(newcombe_difference(48, 80, 56, 70))
    assert (rate.a.low, rate.a.high) == wilson(48, 80)  # cells use Wilson too
    assert rate.verdict == "better"
    assert zero.diff == 0.0 and zero.low < 0.0 < zero.high and zero.verdict == "unclear"
    text = comparison_markdown(a, b, (rate, zero))
    assert "Newcombe" in text and "+0.200 [+0.052, +0.334]" in text


def test_compare_of_a_non_rate_uses_its_own_intervals() -> None:
    a, b = Metric("mean", 0.1234567, 0.05, 0.2, 9), Metric("mean", 0.3234567, 0.25, 0.4, 9)
    diff, low, high = metric_difference(a, b)
    assert diff == pytest.approx(0.2) and low < 0.2 < high
    assert low == pytest.approx(0.2 - ((0.3234567 - 0.25) ** 2 + (0.2 - 0.1234567) ** 2) ** 0.5)
