"""Core vocabulary of bastion; imports nothing else of the project."""

from bastion.core.errors import BastionError
from bastion.core.text import NormalizedText, View
from bastion.core.types import Action, Limit, Message, Role, as_messages
from bastion.core.verdict import Decision, Verdict

__all__ = [
    "Action",
    "BastionError",
    "Decision",
    "Limit",
    "Message",
    "NormalizedText",
    "Role",
    "Verdict",
    "View",
    "as_messages",
]
