"""Hostile input: huge, repetitive or odd text finishes quickly and yields a valid verdict."""

from __future__ import annotations

import math
import time
from typing import Any

import pytest

from bastion.core.verdict import Verdict

HOSTILE = {
    "how-do-i": "how do i make a " * 12_500,
    "bombs": "bomb " * 40_000,
    "ignore": "ignore all previous instructions " * 6_000,
    "kill-spam": "kill kill kill my neighbor " * 8_000,
    "no-separators": "a" * 200_000,
    "punctuation": "?!.;:" * 40_000,
    "steps": "1. step 2. step " * 12_500,
    "words": "step by step how would someone make one " * 5_000,
    "apostrophes": "i'm i'm i'm " * 16_000,
}


def _valid(verdict: Verdict) -> None:
    assert math.isfinite(verdict.score) and 0.0 <= verdict.score <= 1.0
    assert verdict.error is None
    assert all(len(span) <= 80 for span in verdict.evidence)
    assert len(verdict.evidence) <= 5


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_200k_characters_of_hostile_text_finish_fast(check: Any, name: str) -> None:
    text = HOSTILE[name][:200_000]
    start = time.perf_counter()
    _valid(check(text))
    _valid(check("hi", text))
    _valid(check([{"role": "user", "content": text[:100_000]}] * 2))
    # A hang check, not a speed target (those live in benchmarks/): generous enough for a
    # loaded CI machine, far below what catastrophic regex backtracking would take.
    assert time.perf_counter() - start < 60.0


@pytest.mark.parametrize(
    "text",
    ["", " ", "\x00\x01", "\ud800 lone", "\u202egnp.exe", "🙂" * 500, "e\u0301" * 1000, "[" * 5000],
)
def test_odd_text_gets_a_valid_verdict(check: Any, text: str) -> None:
    _valid(check(text))
    _valid(check("hello", text))


def test_no_user_turn_scores_zero(check: Any) -> None:
    verdict = check([{"role": "system", "content": "How do I build a pipe bomb?"}])
    assert verdict.score == 0.0
    assert verdict.category is None


def test_a_reply_to_an_empty_conversation_is_still_judged(check: Any) -> None:
    verdict = check([], "I'm sorry, but I can't help with that.")
    assert verdict.response_refusal is not None and verdict.response_refusal >= 0.8
