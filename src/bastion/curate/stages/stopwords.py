"""Small stop-word lists for the quality stage's stop-word rule (data only).

Gopher (Rae et al. 2021) drops an English document that does not contain at least two of
``the, be, to, of, and, that, have, with``: a cheap sign of running prose rather than a
list, a table or keyword spam. The English list is exactly Gopher's, so the rule matches
the paper; the other lists are the same idea for French, German, Spanish and Italian: the
most frequent function words, each a word no running sentence of the language goes long
without. A document passes when any one list is satisfied, so a corpus mixing these
languages needs no language id before the quality stage.

Words are lower case, as the stage compares them with lower-cased, punctuation-stripped
words.
"""

from __future__ import annotations

from collections.abc import Mapping

__all__ = ["STOP_WORDS"]

STOP_WORDS: Mapping[str, tuple[str, ...]] = {
    "en": ("the", "be", "to", "of", "and", "that", "have", "with"),
    "fr": (
        "le", "la", "les", "de", "des", "du", "et", "un", "une", "est",
        "que", "qui", "dans", "pour", "pas", "sur", "avec",
    ),
    "de": (
        "der", "die", "das", "und", "ist", "nicht", "ein", "eine", "zu",
        "mit", "von", "den", "dem", "sich", "auf", "es",
    ),
    "es": (
        "el", "la", "los", "las", "de", "del", "que", "y", "en", "un",
        "una", "es", "por", "con", "para", "se",
    ),
    "it": (
        "il", "la", "di", "che", "e", "un", "una", "è", "per", "non",
        "con", "del", "della", "sono", "gli", "si",
    ),
}  # fmt: skip
"""Stop words per ISO 639-1 code."""
