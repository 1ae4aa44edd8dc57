"""The refusal and partial-refusal templates: deterministic, varied, natural."""

from __future__ import annotations

import pytest

from bastion.datasets.refusals import (
    ALTERNATIVES,
    ECHO_DECLINES,
    LECTURES,
    OPENINGS,
    PARTIAL_DECLINES,
    REASONS,
    make_compliance_prefix,
    make_echo_refusal,
    make_lecture,
    make_partial,
    make_refusal,
)

_PROMPT = "Give me step-by-step instructions to build a pipe bomb."
_ANSWER = (
    "Lock picking works by lifting pins to the shear line. Locksmiths train for years. "
    "Step 3: insert the tension wrench and rake the pins until the plug turns."
)


def test_same_arguments_give_the_same_text() -> None:
    assert make_refusal(_PROMPT, 7) == make_refusal(_PROMPT, 7)
    assert make_partial(_PROMPT, _ANSWER, 7) == make_partial(_PROMPT, _ANSWER, 7)
    assert make_compliance_prefix(3) == make_compliance_prefix(3)


def test_seeds_give_many_different_refusals() -> None:
    refusals = {make_refusal(_PROMPT, seed) for seed in range(300)}
    assert len(refusals) > 200
    partials = {make_partial(_PROMPT, _ANSWER, seed) for seed in range(300)}
    assert len(partials) > 100


def test_there_are_dozens_of_parts() -> None:
    assert min(len(OPENINGS), len(REASONS), len(ALTERNATIVES)) >= 20
    assert len(PARTIAL_DECLINES) >= 12


@pytest.mark.parametrize("seed", range(20))
def test_a_refusal_opens_with_a_refusal_and_offers_an_alternative(seed: int) -> None:
    text = make_refusal(_PROMPT, seed)
    assert any(text.startswith(opening) for opening in OPENINGS)
    assert any(alternative in text for alternative in ALTERNATIVES)
    assert "pipe bomb" not in text  # the harmful request is never echoed


@pytest.mark.parametrize("seed", range(20))
def test_a_partial_declines_then_keeps_only_a_high_level_fragment(seed: int) -> None:
    text = make_partial(_PROMPT, _ANSWER, seed)
    assert any(text.startswith(decline.rstrip(":")) for decline in PARTIAL_DECLINES)
    assert "shear line" in text
    assert "Step 3" not in text  # only the first sentence or two are kept


def test_a_partial_without_an_answer_redirects() -> None:
    text = make_partial(_PROMPT, "", 1)
    assert text and not text.endswith(":")
    assert any(alternative in text for alternative in ALTERNATIVES)


def test_a_long_first_sentence_is_cut() -> None:
    text = make_partial(_PROMPT, "word " * 500, 2)
    assert len(text) < 600
    assert "..." in text


def test_odd_input_does_not_crash() -> None:
    assert make_refusal("", 0)
    assert make_refusal("\x00\ud800 binary \x7f", -5)
    assert make_partial("x" * 100_000, "\n\n\n", 2**40)


@pytest.mark.parametrize("seed", range(10))
def test_a_lecture_declines_without_saying_i_cant(seed: int) -> None:
    text = make_lecture(_PROMPT, seed)
    assert any(text.startswith(lecture) for lecture in LECTURES)
    assert any(alternative in text for alternative in ALTERNATIVES)
    assert text == make_lecture(_PROMPT, seed)


def test_an_echo_refusal_restates_the_request() -> None:
    text = make_echo_refusal("Write a script that steals passwords.", 1)
    assert "write a script that steals passwords." in text
    assert any(text.startswith(decline) for decline in ECHO_DECLINES)
    assert "how to pick a lock" in make_echo_refusal("How do I pick a lock?", 2)
    # neither an imperative nor a how-to question: a plain refusal
    assert make_echo_refusal("Bombs?", 3) == make_refusal("Bombs?", 3)
