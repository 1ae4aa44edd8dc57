"""``bastion harden``: the closed loop from red-team findings back into the guard.

Rounds of: attack a training pool of goals, cluster the bypasses by technique, add them
(labelled unsafe) with benign look-alikes (the same attack on benign goals, labelled
safe) to the training data and a regression suite, refit the prompt classifier's head
over the shipped encoder, and measure on dev goals and variants held out by hash; the kept
guard is measured once on the test split. See :mod:`bastion.redteam.harden.loop` and design
notes 0029 and 0045.
"""

from bastion.redteam.harden.build import benign_prompts, guard_deps, publish
from bastion.redteam.harden.examples import HardenExample, benign_goals
from bastion.redteam.harden.final import measure_test
from bastion.redteam.harden.head import BaseSet, fit_head
from bastion.redteam.harden.loop import HardenDeps, HardenSettings, run_harden
from bastion.redteam.harden.regression import check_regression, read_cases
from bastion.redteam.harden.report import write_harden_report
from bastion.redteam.harden.results import HardenResult, RoundResult
from bastion.redteam.harden.split import GoalSplit, HoldoutAttack, VariantSplit, split_goals
from bastion.redteam.harden.targets import HeadTarget, guard_factory, hardened_config

__all__ = [
    "BaseSet",
    "GoalSplit",
    "HardenDeps",
    "HardenExample",
    "HardenResult",
    "HardenSettings",
    "HeadTarget",
    "HoldoutAttack",
    "RoundResult",
    "VariantSplit",
    "benign_goals",
    "benign_prompts",
    "check_regression",
    "fit_head",
    "guard_deps",
    "guard_factory",
    "hardened_config",
    "measure_test",
    "publish",
    "read_cases",
    "run_harden",
    "split_goals",
    "write_harden_report",
]
