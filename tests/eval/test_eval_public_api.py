"""Pins the public surface of ``bastion.eval``."""

from __future__ import annotations

import bastion.eval

PUBLIC = [
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


def test_public_names() -> None:
    assert sorted(bastion.eval.__all__) == sorted(PUBLIC)
    for name in PUBLIC:
        assert getattr(bastion.eval, name) is not None


def test_importing_eval_does_not_import_llama_or_matplotlib() -> None:
    import subprocess
    import sys

    code = (
        "import sys, bastion.eval; "
        "print(any(m.split('.')[0] in ('llama_cpp', 'matplotlib', 'torch') for m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
