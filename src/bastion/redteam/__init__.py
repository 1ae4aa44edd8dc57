"""The red-team harness: attacks as plugins, targets, judges, a campaign runner, reports.

Attacks are sans-I/O generators (:mod:`bastion.redteam.base`) registered with
:func:`attack_plugin` and collected by :func:`build_attack_registry` (plus third-party
attacks under the ``bastion.attacks`` entry-point group). A campaign
(:func:`run_campaign`) sends their probes to a :class:`Target`, has a :class:`Judge` read
the replies and writes :class:`Finding` records in the shared record format; reports read
them back (:mod:`bastion.redteam.report`). ``bastion redteam run|list|report`` is the CLI.
"""

from bastion.redteam.base import (
    Attack,
    AttackConfigModel,
    AttackDeps,
    AttackPlugin,
    AttackRun,
    Family,
    Goal,
    Observation,
    Outcome,
    Probe,
    attack_plugin,
    single_turn,
)
from bastion.redteam.fakes import ScriptedTarget
from bastion.redteam.findings import Finding, Turn, finding_record, read_findings
from bastion.redteam.goals import load_goals
from bastion.redteam.judges import (
    AnyJudge,
    CanaryJudge,
    GuardDecisionJudge,
    Judge,
    Judgement,
    KeywordJudge,
    ResponseClassifierJudge,
)
from bastion.redteam.registry import build_attack_registry, select_attacks
from bastion.redteam.runner import Campaign, RunOptions, run_campaign
from bastion.redteam.targets import (
    GuardedModelTarget,
    GuardTarget,
    HarmBlock,
    ModelTarget,
    Target,
    TargetReply,
    build_target,
)

__all__ = [
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
