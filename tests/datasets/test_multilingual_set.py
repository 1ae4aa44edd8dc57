"""The project's multilingual evaluation set."""

from __future__ import annotations

from collections import Counter

from bastion.datasets.multilingual import LANGUAGES, load_multilingual_set


def test_every_item_is_translated_into_every_language() -> None:
    rows = load_multilingual_set()
    assert len(rows) == 240
    assert Counter(r.lang for r in rows) == dict.fromkeys(LANGUAGES, 40)
    by_item: dict[str, set[str]] = {}
    for r in rows:
        by_item.setdefault(r.item, set()).add(r.lang)
        assert r.text.strip() and r.label in (0, 1)
        assert (r.category is None) == (r.label == 0)
    assert all(langs == set(LANGUAGES) for langs in by_item.values())
    assert len({r.id for r in rows}) == len(rows)
