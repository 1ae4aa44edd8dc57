"""The review budget: how much of a guard's traffic may go to human review.

Reviewers are a scarce, fixed resource. A queue that receives most of the traffic is a
queue nobody reads, so the guard spends a budget: every decision earns ``fraction`` of a
review token (capped at ``burst`` tokens) and every decision sent to review spends one.
Decisions a human *must* see (a layer failed, a category the policy marks
``review: always``) are sent whatever the balance, and spend a token too, so they crowd
out the merely uncertain ones rather than adding to them. An uncertain decision that finds
the bucket empty keeps its action and is not queued (design note 0053).
"""

from __future__ import annotations

import threading

__all__ = ["ReviewBudget"]


class ReviewBudget:
    """A thread-safe token bucket over decisions (one per guard, never shared).

    Args:
        fraction: long-run share of decisions that may go to review (0..1); ``1`` sends
            every decision that asks for review.
        burst: the most tokens saved up, so a quiet hour cannot buy an unbounded burst.
    """

    def __init__(self, fraction: float, burst: float = 10.0) -> None:
        if not 0.0 <= fraction <= 1.0:
            raise ValueError(f"review budget fraction must be in [0, 1], got {fraction}")
        if burst < 1.0:
            raise ValueError(f"review budget burst must be >= 1, got {burst}")
        self._fraction = fraction
        self._burst = burst
        self._tokens = 1.0
        self._lock = threading.Lock()

    @property
    def fraction(self) -> float:
        """The long-run share of decisions that may go to review."""
        return self._fraction

    def admit(self, *, wants: bool, must: bool = False) -> bool:
        """Count one decision; whether it goes to review.

        Args:
            wants: the decision asks for review (uncertain, or ``must``).
            must: it goes to review whatever the balance (failure, ``review: always``).
        """
        with self._lock:
            self._tokens = min(self._burst, self._tokens + self._fraction)
            if not (wants or must):
                return False
            if must or self._fraction >= 1.0 or self._tokens >= 1.0:
                self._tokens = max(-self._burst, self._tokens - 1.0)
                return True
            return False
