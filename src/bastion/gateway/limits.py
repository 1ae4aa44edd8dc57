"""What a request may cost: per-key token buckets charged by work, and moderation caps.

A check's CPU time grows with the number of texts and their length, so a request costs
one token per input text plus one per ``chars_per_token`` characters
(:func:`request_cost`): a short prompt costs 1, a 256-input batch of 3.5 kB texts 1,152.
The key check (:class:`~bastion.gateway.auth.Access`) admits a request for one token while
the key's balance is at least one; the route then bills the rest (:meth:`CostLimiter.charge`),
which may leave the balance negative, so a costly request makes its key wait in proportion
to the work it caused instead of starving other clients. A moderation request over its
caps (:func:`moderation_refusal`) is refused before any check runs. See design note 0052.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence

from bastion.gateway._http import SafeJSONResponse, error_response
from bastion.gateway.auth import RateLimiter
from bastion.gateway.settings import ModerationSettings

__all__ = ["CostLimiter", "moderation_refusal", "request_cost"]


def request_cost(texts: int, chars: int, *, chars_per_token: int) -> int:
    """Rate-limit tokens of a request: one per input text plus one per ``chars_per_token``
    characters (whole thousands: a prompt under 1,000 characters costs one token)."""
    return max(1, texts) + chars // max(1, chars_per_token)


class CostLimiter(RateLimiter):
    """A token bucket per key that requests pay into by their cost.

    :meth:`take` admits a request (one token) while the key holds at least one token;
    :meth:`charge` bills the rest of its cost and may leave the balance negative, which
    the key then waits off at ``rate`` tokens per second.

    Args:
        rate: tokens added per second; 0 turns limiting off.
        burst: bucket size.
        clock: monotonic seconds (tests pass a fake).
    """

    def __init__(
        self, rate: float, burst: int, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        super().__init__(rate, burst, clock=clock)
        self._per_s, self._size, self._now = rate, float(max(1, burst)), clock
        self._balances: dict[str, tuple[float, float]] = {}
        self._mutex = threading.Lock()

    def take(self, key: str) -> float:
        """Admit one request of ``key`` for one token: 0.0 when allowed, else seconds until
        the balance is back at one token."""
        if self._per_s <= 0:
            return 0.0
        with self._mutex:
            tokens, now = self._refilled(key)
            if tokens >= 1.0:
                self._balances[key] = (tokens - 1.0, now)
                return 0.0
            self._balances[key] = (tokens, now)
            return (1.0 - tokens) / self._per_s

    def charge(self, key: str, tokens: float) -> None:
        """Bill ``tokens`` more to ``key`` (the rest of an admitted request's cost)."""
        if self._per_s <= 0 or tokens <= 0:
            return
        with self._mutex:
            balance, now = self._refilled(key)
            self._balances[key] = (balance - tokens, now)

    def _refilled(self, key: str) -> tuple[float, float]:
        now = self._now()
        tokens, last = self._balances.get(key, (self._size, now))
        return min(self._size, tokens + (now - last) * self._per_s), now


def moderation_refusal(texts: Sequence[str], caps: ModerationSettings) -> SafeJSONResponse | None:
    """The error answer for a moderation request over its caps, or None within them.

    Too many inputs is a 400 (``too_many_inputs``); too many characters in all a 413
    (``input_too_long``). Both are decided before any check runs.
    """
    if len(texts) > caps.max_inputs:
        message = (
            f"input: at most {caps.max_inputs} inputs per moderation request "
            f"(got {len(texts)}); split the batch"
        )
        return error_response(400, message, "invalid_request_error", "too_many_inputs")
    chars = sum(len(text) for text in texts)
    if chars > caps.max_total_chars:
        message = (
            f"input: at most {caps.max_total_chars:,} characters per moderation request "
            f"(got {chars:,}); split the batch"
        )
        return error_response(413, message, "request_too_large", "input_too_long")
    return None
