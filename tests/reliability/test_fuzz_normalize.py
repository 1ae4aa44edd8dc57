"""Fuzz the tier-0 normaliser: every string and every valid config gives a well-formed,
bounded record, deterministically; no crash, no hang."""

from __future__ import annotations

import base64
import codecs
from urllib.parse import quote

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bastion.core.text import NormalizedText
from bastion.guard.normalize import NormalizeConfig, normalize

pytestmark = pytest.mark.reliability

_ANY_CHAR = st.characters(codec=None, exclude_categories=())
# Pieces the decoders and transforms look for, so that nesting and limits get exercised.
_PIECES = st.sampled_from(
    [
        "how to make a bomb",
        "1gn0r3 4ll pr3v10u5",
        "\u200b",
        "\u202e",
        "\U000e0041\U000e0062",
        "%41%42",
        "==",
        " ",
        "\ud800",
        "ﬁ" * 3,
        "\u0301",
    ]
)


@st.composite
def _encoded(draw: st.DrawFn) -> str:
    """Text wrapped in up to three encodings (base64, hex, percent, rot13, reversal)."""
    text = draw(st.text(_ANY_CHAR, max_size=40) | st.lists(_PIECES, max_size=6).map("".join))
    for step in draw(st.lists(st.sampled_from(["b64", "hex", "url", "rot13", "rev"]), max_size=3)):
        raw = text.encode("utf-8", "surrogatepass")
        if step == "b64":
            text = base64.b64encode(raw).decode()
        elif step == "hex":
            text = raw.hex()
        elif step == "url":
            text = quote(raw)
        elif step == "rot13":
            text = codecs.encode(text, "rot13")
        else:
            text = text[::-1]
    return text


_TEXT = st.one_of(
    st.text(_ANY_CHAR),
    st.lists(_PIECES | st.text(_ANY_CHAR, max_size=8), max_size=30).map("".join),
    _encoded(),
)

_CONFIG = st.builds(
    NormalizeConfig,
    max_chars=st.integers(1, 5000),
    max_depth=st.integers(0, 4),
    max_views=st.integers(1, 64),
)


def _check(result: NormalizedText, config: NormalizeConfig) -> None:
    assert result.views and result.views[0].method == "canonical"
    assert result.views[0].text == result.canonical
    assert len(result.views) <= config.max_views
    assert len(result.canonical) <= config.max_chars
    assert len({view.text for view in result.views}) == len(result.views)
    for view in result.views:
        view.text.encode("utf-8")  # no lone surrogate survives


@settings(settings.get_profile("bastion-fuzz"))
@given(_TEXT)
def test_normalize_any_text(text: str) -> None:
    config = NormalizeConfig()
    result = normalize(text)
    _check(result, config)
    assert normalize(text) == result  # deterministic


@settings(settings.get_profile("bastion-fuzz"))
@given(_TEXT, _CONFIG)
def test_normalize_any_config(text: str, config: NormalizeConfig) -> None:
    result = normalize(text, config)
    _check(result, config)
    assert result.truncated or len(text) <= config.max_chars


@settings(settings.get_profile("bastion-fuzz"))
@given(st.lists(_PIECES, min_size=1, max_size=4).map("".join), st.integers(1_000, 60_000))
def test_normalize_long_input_is_bounded(piece: str, repeat: int) -> None:
    """Long, repetitive input (what a moderation batch may carry) stays within the limit."""
    config = NormalizeConfig(max_chars=50_000)
    result = normalize((piece * repeat)[:200_000], config)
    _check(result, config)
