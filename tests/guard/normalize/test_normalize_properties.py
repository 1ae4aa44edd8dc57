"""Properties that hold for every string: no exception, idempotent canonical, clean views."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bastion.core.text import NormalizedText
from bastion.guard.normalize import NormalizeConfig, normalize
from bastion.guard.normalize._confusables import CONFUSABLES

# Characters that exercise every step: confusables, separators, leet digits, invisibles,
# bidi, tags, combining marks, compatibility forms, case-folding oddities, surrogates.
_TRICKY = [
    *CONFUSABLES,
    *"abcoxyzABCOXYZ .-_*'’01347$@!|%=/+",
    *"\u200b\u200c\u200d\u2060\ufeff\u00ad\ufe0f\u202e\u2066\u061c",
    *"\U000e0041\U000e0020\U000e007f\U0001f3f4",
    *"\u0301\u0308\u0337\u0345\u0307",
    *"ßİıſKΩﬁｂ①ǅﷺŉΐ\u3131\u1100\u1161\u00a0\u3000\u2028\n\t\x00\x1f\x85",
    "\ud800",
    "\udfff",
]

any_text = st.one_of(
    st.text(),
    st.text(st.characters(codec=None, exclude_categories=())),
    st.text(st.sampled_from(_TRICKY)),
    st.text(st.sampled_from(_TRICKY), max_size=6),
)

_settings = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _check_record(result: NormalizedText) -> None:
    assert result.views
    assert result.views[0].method == "canonical"
    assert result.views[0].text == result.canonical
    assert list(result.techniques) == sorted(set(result.techniques))
    for view in result.views:
        assert isinstance(view.text, str)
        view.text.encode("utf-8")  # raises on a lone surrogate
    assert len({view.text for view in result.views}) == len(result.views)


@_settings
@given(any_text)
def test_never_raises_and_returns_a_well_formed_record(text: str) -> None:
    _check_record(normalize(text))


@_settings
@given(any_text)
def test_canonical_is_idempotent(text: str) -> None:
    canonical = normalize(text).canonical
    assert normalize(canonical).canonical == canonical


@_settings
@given(any_text)
def test_canonical_is_stripped_and_single_spaced(text: str) -> None:
    canonical = normalize(text).canonical
    assert canonical == canonical.strip()
    assert "  " not in canonical


@_settings
@given(
    any_text,
    st.integers(min_value=1, max_value=64),
    st.integers(min_value=0, max_value=4),
    st.integers(min_value=1, max_value=10),
)
def test_limits_hold_for_any_config(text: str, max_chars: int, depth: int, views: int) -> None:
    config = NormalizeConfig(max_chars=max_chars, max_depth=depth, max_views=views)
    result = normalize(text, config)
    _check_record(result)
    assert len(result.views) <= views
    assert len(result.canonical) <= max_chars
    if len(text) > max_chars:
        assert result.truncated
