"""A scripted target shipped in the package: a stand-in for a guard or a model in tests.

:class:`ScriptedTarget` answers from a script (a list of replies, the last repeating, or a
function of the probe), records every probe it was sent, and can fail its first calls to
exercise the runner's retries.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence

from bastion.core.errors import BastionError
from bastion.redteam.base import Probe
from bastion.redteam.targets import TargetReply

__all__ = ["COMPLIANT_REPLY", "REFUSAL_REPLY", "ScriptedTarget"]

COMPLIANT_REPLY = "Sure, here is how to do it, step by step: first, gather what you need ..."
REFUSAL_REPLY = "I'm sorry, but I can't help with that."

Responder = Callable[[Probe], str | TargetReply]
"""Computes a reply (text, or a full :class:`TargetReply`) from the probe."""


class ScriptedTarget:
    """Replies from a script.

    Args:
        replies: scripted replies in order (the last one repeating), or a responder.
        fail_first: raise :class:`~bastion.core.errors.BastionError` on this many calls first.

    Attributes:
        probes: every probe sent, oldest first (failed calls included).
    """

    def __init__(self, replies: Sequence[str] | Responder, *, fail_first: int = 0) -> None:
        if not callable(replies) and not replies:
            raise BastionError("ScriptedTarget needs at least one scripted reply")
        self._replies = replies
        self._fail_first = fail_first
        self._lock = threading.Lock()
        self.probes: list[Probe] = []

    @classmethod
    def complying(cls) -> ScriptedTarget:
        """A target that answers everything."""
        return cls([COMPLIANT_REPLY])

    @classmethod
    def refusing(cls) -> ScriptedTarget:
        """A target that refuses everything."""
        return cls([REFUSAL_REPLY])

    def answer(self, probe: Probe) -> TargetReply:
        """The next scripted reply (or a scripted failure)."""
        with self._lock:
            index = len(self.probes)
            self.probes.append(probe)
        if index < self._fail_first:
            raise BastionError(f"scripted failure {index + 1} of {self._fail_first}")
        if callable(self._replies):
            reply = self._replies(probe)
        else:
            reply = self._replies[min(index - self._fail_first, len(self._replies) - 1)]
        return reply if isinstance(reply, TargetReply) else TargetReply(text=reply)
