"""Pins the public surface of ``bastion.redteam``: changing it must be a visible edit."""

from __future__ import annotations

import bastion.redteam
import bastion.redteam.report

PUBLIC = [
    "AnyJudge",
    "Attack",
    "AttackConfigModel",
    "AttackDeps",
    "AttackPlugin",
    "AttackRun",
    "Campaign",
    "CanaryJudge",
    "Family",
    "Finding",
    "Goal",
    "GuardDecisionJudge",
    "GuardTarget",
    "GuardedModelTarget",
    "HarmBlock",
    "Judge",
    "Judgement",
    "KeywordJudge",
    "ModelTarget",
    "Observation",
    "Outcome",
    "Probe",
    "ResponseClassifierJudge",
    "RunOptions",
    "ScriptedTarget",
    "Target",
    "TargetReply",
    "Turn",
    "attack_plugin",
    "build_attack_registry",
    "build_target",
    "finding_record",
    "load_goals",
    "read_findings",
    "run_campaign",
    "select_attacks",
    "single_turn",
]


def test_public_names() -> None:
    assert sorted(bastion.redteam.__all__) == PUBLIC
    for name in PUBLIC:
        assert getattr(bastion.redteam, name) is not None


def test_report_names() -> None:
    for name in bastion.redteam.report.__all__:
        assert getattr(bastion.redteam.report, name) is not None
