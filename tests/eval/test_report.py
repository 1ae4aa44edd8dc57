"""Records and reports of a run (JSON, Markdown, HTML) from a scripted run."""

from __future__ import annotations

from pathlib import Path

from bastion.eval import (
    EvalReport,
    RunSettings,
    SuiteDeps,
    Target,
    build_suite_registry,
    report_records,
    resolve_suites,
    run_suites,
)
from bastion.eval.html import html_report
from bastion.eval.report import markdown_report, report_json, trade_off, write_reports
from bastion.eval.runner import write_records
from bastion.policy import Policy
from bastion.records import RecordKind, read_records
from bastion.records.fakes import FakeClock


def _report(target: Target, policy: Policy) -> EvalReport:
    plugins = resolve_suites("under_refusal,over_refusal,sycophancy", build_suite_registry())
    deps = SuiteDeps(policy=policy, settings=RunSettings(limit=30))
    return run_suites(target, plugins, deps, clock=FakeClock())


def test_records_round_trip(always_allow: Target, policy: Policy, tmp_path: Path) -> None:
    report = _report(always_allow, policy)
    path = tmp_path / "results.jsonl"
    count = write_records(report, path, clock=FakeClock())
    records = list(read_records(path))
    assert len(records) == count == sum(len(s.items) + 1 for s in report.suites)
    assert all(r.kind is RecordKind.EVAL_RESULT for r in records)
    first = next(report_records(report, clock=FakeClock()))
    assert first.payload["run_id"] == report.run_id and first.payload["type"] == "item"
    assert report.started_at == "2025-01-01T00:00:00Z"


def test_markdown_lists_critical_failures(always_allow: Target, policy: Policy) -> None:
    report = _report(always_allow, policy)
    text = markdown_report(report)
    assert "| under_refusal | unsafe_catch_rate | 0.000" in text
    under = report.suite("under_refusal")
    assert under is not None
    if under.critical:
        assert "Critical failures" in text
    assert "skipped: applies to assistant targets" not in text  # always-allow is an assistant
    assert "limit 30, sample seed None" in text  # the header says how items were sampled


def test_trade_off_and_json(always_allow: Target, policy: Policy) -> None:
    report = _report(always_allow, policy)
    summary = trade_off(report)
    assert summary.curve and summary.n_benign == 30 and summary.n_unsafe == 30
    data = report_json(report)
    assert data["trade_off"]["unsafe_catch"]["value"] == 0.0
    assert [s["suite"] for s in data["suites"]] == ["under_refusal", "over_refusal", "sycophancy"]


def test_html_is_self_contained(always_allow: Target, policy: Policy, tmp_path: Path) -> None:
    report = _report(always_allow, policy)
    html = html_report(report)
    assert html.startswith("<!doctype html>") and "<script" not in html
    assert "limit 30, sample seed None" in html
    assert html.count("data:image/png;base64,") == 2
    assert "src='http" not in html
    written = write_reports(report, tmp_path / "out")
    assert sorted(p.name for p in written) == ["report.html", "report.json", "report.md"]


def test_reports_of_an_all_skipped_run(guard_target: Target, policy: Policy) -> None:
    plugins = resolve_suites("sycophancy", build_suite_registry())
    report = run_suites(guard_target, plugins, SuiteDeps(policy=policy, settings=RunSettings()))
    assert report.suites[0].skipped
    assert "skipped" in markdown_report(report)
    assert html_report(report).count("data:image/png;base64,") == 1
    assert report_json(report)["trade_off"]["curve"] == []


def test_calibration_by_group_and_in_reports(guard_target: Target, deps: SuiteDeps) -> None:
    from bastion.eval.report import calibration_by_group

    plugins = resolve_suites("over_refusal,under_refusal", build_suite_registry())
    report = run_suites(guard_target, plugins, deps)
    groups = calibration_by_group(report)
    assert groups and all(0.0 <= g.ece <= 1.0 and g.n > 0 for g in groups)
    assert "## Calibration per category" in markdown_report(report)
    assert report_json(report)["trade_off"]["by_group"][0]["group"] == groups[0].group
