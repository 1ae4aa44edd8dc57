"""Builds the suite registry: built-in suites plus the ``bastion.eval_suites`` entry points."""

from __future__ import annotations

from bastion.core.registry import Registry
from bastion.eval.suite import SuitePlugin

__all__ = ["SUITE_ENTRY_POINT_GROUP", "build_suite_registry"]

SUITE_ENTRY_POINT_GROUP = "bastion.eval_suites"


def build_suite_registry(*, entry_points: bool = True) -> Registry[SuitePlugin]:
    """A fresh registry of evaluation suites.

    Args:
        entry_points: also load third-party suites published under ``bastion.eval_suites``.
    """
    from bastion.eval.suites.benchmarks import DoNotAnswerSuite, HarmBenchSuite
    from bastion.eval.suites.consistency import ConsistencySuite
    from bastion.eval.suites.encouraged import EncouragedSuite
    from bastion.eval.suites.refusal import OverRefusalSuite, UnderRefusalSuite
    from bastion.eval.suites.response_mode import ResponseModeSuite
    from bastion.eval.suites.sycophancy import SycophancySuite

    registry: Registry[SuitePlugin] = Registry("suite", group=SUITE_ENTRY_POINT_GROUP)
    registry.add_marked(
        [
            UnderRefusalSuite,
            OverRefusalSuite,
            ConsistencySuite,
            ResponseModeSuite,
            SycophancySuite,
            EncouragedSuite,
            HarmBenchSuite,
            DoNotAnswerSuite,
        ],
        _name,
    )
    if entry_points:
        registry.load_entry_points(_name)
    return registry


def _name(entry: SuitePlugin) -> str:
    return entry.name
