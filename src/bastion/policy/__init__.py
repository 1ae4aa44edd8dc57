"""The policy: taxonomy, contexts and decisions, loaded from YAML and validated."""

from bastion.policy.loader import default_policy_text, load_policy, parse_policy
from bastion.policy.model import CategorySpec, ContextSpec, Policy, ReviewMode

__all__ = [
    "CategorySpec",
    "ContextSpec",
    "Policy",
    "ReviewMode",
    "default_policy_text",
    "load_policy",
    "parse_policy",
]
