"""Tier-0 rules: pattern data per category, tactics, multi-turn accumulation, reply checks."""

from bastion.guard.layers.rules.config import RulesConfig
from bastion.guard.layers.rules.layer import RulesLayer

__all__ = ["RulesConfig", "RulesLayer"]
