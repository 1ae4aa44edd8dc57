"""What a request may cost: per-key token buckets charged by work, and moderation caps.

A check's CPU time grows with the number of texts and their length, so a request costs
one token per input text plus one per ``chars_per_token`` characters
(:func:`request_cost`): a short prompt costs 1, a 256-input batch of 3.5 kB texts 1,152.
The key check (:class:`~bastion.gateway.auth.Access`) admits a request for one token while
the key's balance is at least one; the route then bills the rest
(:meth:`~bastion.gateway.auth.RateLimiter.charge`), which may leave the balance negative,
so a costly request makes its key wait in proportion to the work it caused instead of
starving other clients. A moderation request over its
caps (:func:`moderation_refusal`) is refused before any check runs. See design note 0052.
"""

from __future__ import annotations

from collections.abc import Sequence

from bastion.gateway._http import SafeJSONResponse, error_response
from bastion.gateway.settings import ModerationSettings

__all__ = ["moderation_refusal", "request_cost"]


def request_cost(texts: int, chars: int, *, chars_per_token: int) -> int:
    """Rate-limit tokens of a request: one per input text plus one per ``chars_per_token``
    characters (whole thousands: a prompt under 1,000 characters costs one token)."""
    return max(1, texts) + chars // max(1, chars_per_token)


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
