"""Evaluation of the four failure modes: over-refusal, under-refusal, inconsistency and
sycophancy, plus the response mode the policy sets and public benchmarks (evaluation only).

A :class:`Target` answers conversations (the guard alone, or an assistant behind an
optional guard); a suite asks it its items and scores the answers; the runner writes the
results as ``eval_result`` records and the report (JSON, Markdown, HTML)::

    from bastion import Guard
    from bastion.eval import GuardTarget, RunSettings, SuiteDeps, build_suite_registry
    from bastion.eval import resolve_suites, run_suites

    guard = Guard.from_policy()
    deps = SuiteDeps(policy=guard.policy, settings=RunSettings(limit=50))
    plugins = resolve_suites("over_refusal,under_refusal", build_suite_registry())
    report = run_suites(GuardTarget(guard), plugins, deps)
"""

from bastion.eval.fakes import scripted_assistant
from bastion.eval.judges import KeywordRefusalJudge, RefusalJudge, ResponseClassifierJudge
from bastion.eval.metrics import bootstrap_mean, expected_calibration_error, rate, tradeoff_curve
from bastion.eval.registry import SUITE_ENTRY_POINT_GROUP, build_suite_registry
from bastion.eval.results import CategoryRow, EvalReport, ItemResult, Metric, SuiteResult
from bastion.eval.runner import report_records, resolve_suites, run_suites, write_records
from bastion.eval.suite import RunSettings, Suite, SuiteDeps, SuitePlugin, suite_plugin
from bastion.eval.target import (
    Answer,
    AssistantParts,
    AssistantTarget,
    Conversation,
    GuardTarget,
    Target,
)

__all__ = [
    "SUITE_ENTRY_POINT_GROUP",
    "Answer",
    "AssistantParts",
    "AssistantTarget",
    "CategoryRow",
    "Conversation",
    "EvalReport",
    "GuardTarget",
    "ItemResult",
    "KeywordRefusalJudge",
    "Metric",
    "RefusalJudge",
    "ResponseClassifierJudge",
    "RunSettings",
    "Suite",
    "SuiteDeps",
    "SuitePlugin",
    "SuiteResult",
    "Target",
    "bootstrap_mean",
    "build_suite_registry",
    "expected_calibration_error",
    "rate",
    "report_records",
    "resolve_suites",
    "run_suites",
    "scripted_assistant",
    "suite_plugin",
    "tradeoff_curve",
    "write_records",
]
