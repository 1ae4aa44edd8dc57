"""A scripted chat model shipped in the package: a stand-in for llama.cpp in tests.

:class:`FakeLlm` implements :class:`~bastion.models.llm.LlmBackend`, replies from a script
and records every conversation it was given, so tests exercise the real judge layer and
the real generation code without a model file or llama-cpp-python.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence

from bastion.core.errors import LayerTimeoutError
from bastion.core.types import Message
from bastion.models.llm import GenerationOptions

__all__ = ["FakeLlm"]

Responder = Callable[[Sequence[Message], GenerationOptions], str]
"""Computes a reply from the conversation and the options."""


class FakeLlm:
    """Replies from a script: a list of strings (in order, the last one repeating) or a
    function of the conversation.

    Args:
        replies: the scripted replies, or a responder function.
        delay_s: seconds each call takes; a call whose ``timeout_s`` is shorter sleeps for
            the budget and raises :class:`~bastion.core.errors.LayerTimeoutError`, as the
            real backend does.

    Attributes:
        calls: every ``(messages, options)`` the fake was called with, oldest first.
    """

    def __init__(self, replies: Sequence[str] | Responder, *, delay_s: float = 0.0) -> None:
        if not callable(replies) and not replies:
            raise ValueError("FakeLlm needs at least one scripted reply")
        self._replies = replies
        self._delay_s = delay_s
        self._lock = threading.Lock()
        self.calls: list[tuple[tuple[Message, ...], GenerationOptions]] = []

    def complete(self, messages: Sequence[Message], options: GenerationOptions) -> str:
        """The next scripted reply."""
        with self._lock:
            index = len(self.calls)
            self.calls.append((tuple(messages), options))
        self._wait(options.timeout_s)
        if callable(self._replies):
            return self._replies(messages, options)
        return self._replies[min(index, len(self._replies) - 1)]

    def _wait(self, timeout_s: float | None) -> None:
        if self._delay_s <= 0:
            return
        if timeout_s is not None and self._delay_s > timeout_s:
            time.sleep(timeout_s)
            raise LayerTimeoutError("llm", timeout_s)
        time.sleep(self._delay_s)
