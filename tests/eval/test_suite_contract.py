"""Contract tests over every registered suite: metadata, and a run on each target kind."""

from __future__ import annotations

import pytest

from bastion.core.errors import DuplicatePluginError, UnknownPluginError
from bastion.core.registry import Registry
from bastion.eval import (
    GuardTarget,
    RunSettings,
    Suite,
    SuiteDeps,
    SuitePlugin,
    Target,
    build_suite_registry,
    resolve_suites,
    run_suites,
    scripted_assistant,
)
from bastion.eval.suite import TARGET_KINDS
from bastion.guard import Guard
from bastion.policy import Policy

REGISTRY = build_suite_registry()
PLUGINS = list(REGISTRY)
HOSTILE_REPLIES = ["", "\x00", "\ud800", "🙂" * 500, "I can't" * 1000, "\u202e"]


@pytest.mark.parametrize("plugin", PLUGINS, ids=lambda p: p.name)
def test_plugin_metadata(plugin: SuitePlugin) -> None:
    assert plugin.description and not plugin.description.endswith(",")
    assert plugin.targets and set(plugin.targets) <= set(TARGET_KINDS)
    assert plugin.tags


@pytest.mark.parametrize("plugin", PLUGINS, ids=lambda p: p.name)
def test_every_suite_runs_on_every_target_kind(
    plugin: SuitePlugin, guard: Guard, policy: Policy
) -> None:
    deps = SuiteDeps(policy=policy, settings=RunSettings(limit=3))
    assert isinstance(plugin.build(deps), Suite)
    targets: list[Target] = [GuardTarget(guard), scripted_assistant(HOSTILE_REPLIES)]
    for target in targets:
        (result,) = run_suites(target, [plugin], deps).suites
        assert result.suite == plugin.name and result.target == target.name
        assert result.skipped or result.metrics
        for metric in result.metrics:
            assert 0.0 <= metric.low <= metric.value <= metric.high <= 1.0
            assert metric.n >= 0
        assert all(item.suite == plugin.name for item in result.items)


def test_resolve_suites() -> None:
    assert [p.name for p in resolve_suites("all", REGISTRY)] == REGISTRY.names()
    chosen = resolve_suites(" over_refusal, consistency,over_refusal ", REGISTRY)
    assert [p.name for p in chosen] == ["over_refusal", "consistency"]
    with pytest.raises(UnknownPluginError, match="unknown suite"):
        resolve_suites("nope", REGISTRY)
    with pytest.raises(UnknownPluginError):
        resolve_suites(" , ", REGISTRY)


def test_duplicate_suite_names_raise() -> None:
    registry: Registry[SuitePlugin] = Registry("suite")
    registry.register("x", PLUGINS[0])
    with pytest.raises(DuplicatePluginError):
        registry.register("x", PLUGINS[0])


def test_all_failure_modes_are_covered() -> None:
    tags = {tag for plugin in PLUGINS for tag in plugin.tags}
    assert {"over-refusal", "under-refusal", "inconsistency", "sycophancy"} <= tags
