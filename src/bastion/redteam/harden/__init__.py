"""``bastion harden``: the closed loop from red-team findings back into the guard.

Rounds of: attack a training pool of goals, cluster the bypasses by technique, add them
(labelled unsafe) with benign look-alikes (the same attack on benign goals, labelled
safe) to the training data and a regression suite, refit the prompt classifier's head
over the shipped encoder, and attack again on goals and attack variants held out by hash.
See :mod:`bastion.redteam.harden.loop` and design note 0029.
"""

from bastion.redteam.harden.build import guard_deps, publish
from bastion.redteam.harden.examples import HardenExample, benign_goals
from bastion.redteam.harden.head import BaseSet, fit_head
from bastion.redteam.harden.loop import HardenDeps, HardenSettings, run_harden
from bastion.redteam.harden.regression import check_regression, read_cases
from bastion.redteam.harden.report import write_harden_report
from bastion.redteam.harden.results import HardenResult, RoundResult
from bastion.redteam.harden.split import HoldoutAttack, VariantSplit, split_goals
from bastion.redteam.harden.targets import HeadTarget, guard_factory, hardened_config

__all__ = [
    "BaseSet",
    "HardenDeps",
    "HardenExample",
    "HardenResult",
    "HardenSettings",
    "HeadTarget",
    "HoldoutAttack",
    "RoundResult",
    "VariantSplit",
    "benign_goals",
    "check_regression",
    "fit_head",
    "guard_deps",
    "guard_factory",
    "hardened_config",
    "publish",
    "read_cases",
    "run_harden",
    "split_goals",
    "write_harden_report",
]
