"""bastion: a layered, CPU-first, offline-by-default safety system for LLM applications.

The public API (imported lazily so that ``bastion check`` starts fast)::

    from bastion import Guard
    guard = Guard.from_policy()                     # the packaged default policy
    decision = guard.check("How do I kill a Python process?")
    decision.action                                 # Action.ALLOW
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

__all__ = [
    "Action",
    "BastionError",
    "Decision",
    "Guard",
    "GuardConfig",
    "Limit",
    "Message",
    "Policy",
    "Role",
    "Verdict",
    "__version__",
    "load_config",
    "load_policy",
]

_LAZY = {
    "Action": "bastion.core.types",
    "Limit": "bastion.core.types",
    "Message": "bastion.core.types",
    "Role": "bastion.core.types",
    "BastionError": "bastion.core.errors",
    "Decision": "bastion.core.verdict",
    "Verdict": "bastion.core.verdict",
    "Guard": "bastion.guard.guard",
    "GuardConfig": "bastion.guard.config",
    "load_config": "bastion.guard.config",
    "Policy": "bastion.policy.model",
    "load_policy": "bastion.policy.loader",
}

if TYPE_CHECKING:
    from bastion.core.errors import BastionError
    from bastion.core.types import Action, Limit, Message, Role
    from bastion.core.verdict import Decision, Verdict
    from bastion.guard.config import GuardConfig, load_config
    from bastion.guard.guard import Guard
    from bastion.policy.loader import load_policy
    from bastion.policy.model import Policy


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'bastion' has no attribute {name!r}")
    return getattr(import_module(module), name)


def __dir__() -> list[str]:
    return sorted(__all__)
