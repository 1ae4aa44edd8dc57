"""Unicode clean-up for the canonical view: invisibles, tags, homoglyphs, spacing tricks.

Every table and pattern is built once at import. Patterns use single character classes
and possessive quantifiers, so each runs in time linear in the text.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from bastion.guard.normalize._confusables import CONFUSABLES, OTHER_SCRIPT

__all__ = ["Canonical", "canonicalize", "decode_tags", "fold_homoglyphs", "join_spaced", "scrub"]

_FOUND_ZERO_WIDTH = "obfuscation:zero_width"
_FOUND_BIDI = "obfuscation:bidi"
_FOUND_HOMOGLYPH = "obfuscation:homoglyph"
_FOUND_SPACING = "obfuscation:spacing"
_FOUND_COMBINING = "obfuscation:combining_marks"

# canonicalize() iterates non-ASCII text to a fixed point; one extra pass almost always
# suffices, and the bound only stops a pathological input from looping.
_MAX_PASSES = 4


_Spans = tuple[tuple[int, int], ...]

_INVISIBLE: _Spans = (
    (0x00AD, 0x00AD),
    (0x034F, 0x034F),
    (0x061C, 0x061C),
    (0x115F, 0x1160),
    (0x17B4, 0x17B5),
    (0x180E, 0x180E),
    (0x200B, 0x200F),
    (0x2060, 0x2064),
    (0x3164, 0x3164),
    (0xFE00, 0xFE0F),
    (0xFEFF, 0xFEFF),
    (0xFFA0, 0xFFA0),
    (0x1D173, 0x1D17A),
    (0xE0100, 0xE01EF),
)
_JOINERS = "\u200c\u200d"
_BIDI: _Spans = ((0x202A, 0x202E), (0x2066, 0x2069))
_TAGS: _Spans = ((0xE0000, 0xE007F),)
# Controls are dropped, except those str.split() treats as whitespace (tab, newlines,
# \x1c-\x1f, NEL), which the whitespace collapse turns into spaces.
_CONTROLS: _Spans = ((0x00, 0x08), (0x0E, 0x1B), (0x7F, 0x84), (0x86, 0x9F))
# Combining marks from the generic diacritic blocks. After NFKC composes the legitimate
# accents (é, ñ, ö), what is left is stacked "zalgo" or marks glued onto letters to split
# a word for a keyword matcher.
_MARKS: _Spans = (
    (0x0300, 0x036F), (0x0483, 0x0489), (0x1AB0, 0x1AFF), (0x1DC0, 0x1DFF), (0x20D0, 0x20FF),
    (0xFE20, 0xFE2F),
)  # fmt: skip


def _class(spans: _Spans) -> str:
    # Ranges, not listed characters: a class of a few ranges is checked much faster.
    return "[" + "".join(f"{re.escape(chr(lo))}-{re.escape(chr(hi))}" for lo, hi in spans) + "]"


_DELETE_RE = re.compile(_class(_INVISIBLE + _BIDI + _TAGS + _CONTROLS) + "++")
_DELETE_MARKS_RE = re.compile(_class(_MARKS) + "++")
_ASCII_CONTROLS = dict.fromkeys(c for lo, hi in _CONTROLS for c in range(lo, min(hi + 1, 0x80)))

_SURROGATE_RE = re.compile("[\ud800-\udfff]")
_INVISIBLE_RUN_RE = re.compile(_class(_INVISIBLE) + "++")
_BIDI_RE = re.compile(_class(_BIDI))
_ZALGO_RE = re.compile(_class(_MARKS) + "{3}")
_TAG_RE = re.compile("[\U000e0000-\U000e007f]")
_TAG_RUN_RE = re.compile("[\U000e0020-\U000e007e]++")
_TAG_TO_ASCII = {c: c - 0xE0000 for c in range(0xE0020, 0xE007F)}
# Subdivision flags (England, Scotland, Wales) are a black flag followed by tag letters.
_FLAG_RE = re.compile("\U0001f3f4[\U000e0030-\U000e0039\U000e0061-\U000e007a]{1,8}\U000e007f")

_CONFUSABLE_RE = re.compile(f"[{''.join(CONFUSABLES)}]")
_OTHER_SCRIPT_RE = re.compile(f"[{''.join(OTHER_SCRIPT)}]")
_HOMOGLYPHS = str.maketrans(dict(CONFUSABLES))
_LETTERS_RE = re.compile(r"[^\W\d_]++")
_ASCII_LETTERS_RE = re.compile(r"[A-Za-z]++")

_SEP = "[ .*_\\-\u00b7\u2010-\u2015\u2022]"
# Three or more single letters split by one repeated separator ("b o m b", "b.o.m.b",
# "b - o - m - b"). Requiring the same separator keeps "a u.s. employer" and "a p.e. class"
# apart; a letter after an apostrophe ("it's") is not single.
_SPACED_RE = re.compile(
    rf"(?<![^\W_])(?<!['’])[^\W\d_]({_SEP}++)[^\W\d_](?![^\W_])(?:\1[^\W\d_](?![^\W_]))++"
)
_SEP_RE = re.compile(f"{_SEP}++")
# Three-letter runs are joined but not reported: initials ("j. a. g."), acronyms ("o m g")
# and formulas ("m x n") are common in ordinary text.
_MIN_REPORTED_RUN = 4


@dataclass(frozen=True, slots=True)
class Canonical:
    """The canonical form of one text and what was found on the way.

    Attributes:
        prepared: invisibles, bidi controls, tags and leftover combining marks removed
            and NFKC applied, case kept; the decoders (base64, hex, url) read this, since
            they need the original case.
        text: the canonical text.
        techniques: obfuscation tactics seen (``obfuscation:*``).
    """

    prepared: str
    text: str
    techniques: frozenset[str]


def scrub(text: str) -> str:
    """Replace lone surrogates with U+FFFD so the text can be encoded.

    Args:
        text: any Python string.

    Returns:
        The text, unchanged unless it held surrogates.
    """
    if text.isascii():
        return text
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return _SURROGATE_RE.sub("\ufffd", text)
    return text


def decode_tags(text: str) -> str:
    """Decode Unicode tag characters (U+E0020-U+E007E) to the ASCII they smuggle.

    Args:
        text: the scrubbed input.

    Returns:
        The hidden ASCII, one space between separate runs; empty when there is none.
    """
    if text.isascii() or _TAG_RE.search(text) is None:
        return ""
    runs = _TAG_RUN_RE.findall(_FLAG_RE.sub("", text))
    return " ".join(run.translate(_TAG_TO_ASCII) for run in runs)


def fold_homoglyphs(text: str) -> tuple[str, bool]:
    """Replace confusable letters with the Latin letters they imitate.

    A word that mixes ASCII letters with confusables is folded, and reported when it is a
    disguised word (Cyrillic, Greek or Armenian letters, word-like case). A word made
    only of confusables is folded, unreported, when the text around it is Latin; in
    Russian or Greek prose it is left alone.

    Args:
        text: NFKC text, case kept.

    Returns:
        The folded text and whether a mixed-script word was seen.
    """
    if _CONFUSABLE_RE.search(text) is None:
        return text, False
    fold_whole_words = _latin_context(text)
    mixed: list[bool] = []

    def fold(match: re.Match[str]) -> str:
        word = match.group()
        if word.isascii() or _CONFUSABLE_RE.search(word) is None:
            return word
        folded = word.translate(_HOMOGLYPHS)
        if _ASCII_LETTERS_RE.search(word) is not None:
            mixed.append(_disguised(word, folded))
            return folded
        return folded if fold_whole_words and folded.isascii() else word

    return _LETTERS_RE.sub(fold, text), any(mixed)


def _disguised(word: str, folded: str) -> bool:
    # A disguised word reads as an ordinary word once folded ("bоmb" -> "bomb"); a formula
    # such as "ρVg" keeps its mixed case, and IPA letters (/faɪv/) are Latin anyway.
    if len(word) < 3 or _OTHER_SCRIPT_RE.search(word) is None:
        return False
    return folded.islower() or folded.isupper() or folded.istitle()


def _latin_context(text: str) -> bool:
    # Letters that are neither ASCII nor confusable mark a non-Latin text. Counting
    # confusables on the Latin side keeps the decision the same before and after folding.
    letters = sum(map(len, _LETTERS_RE.findall(text)))
    latin = sum(map(len, _ASCII_LETTERS_RE.findall(text))) + len(_CONFUSABLE_RE.findall(text))
    return (letters - latin) * 10 <= letters


def join_spaced(text: str) -> tuple[str, bool]:
    """Join runs of three or more single letters split by a spacing trick.

    Args:
        text: whitespace-collapsed, case-folded text.

    Returns:
        The joined text and whether a run of four or more letters was joined.
    """
    if _SPACED_RE.search(text) is None:
        return text, False
    deliberate: list[bool] = []

    def join(match: re.Match[str]) -> str:
        run = match.group()
        joined = _SEP_RE.sub("", run)
        deliberate.append(len(joined) >= _MIN_REPORTED_RUN)
        return joined

    return _SPACED_RE.sub(join, text), any(deliberate)


def canonicalize(text: str) -> Canonical:
    """Compute the canonical form of a scrubbed text.

    Steps: drop invisibles, bidi controls, tags and controls; NFKC; fold homoglyphs;
    casefold; NFKC again; drop leftover combining marks; collapse whitespace; join spacing
    tricks. Non-ASCII text is iterated to a fixed point, so the canonical form is
    idempotent.

    Args:
        text: a scrubbed string (no lone surrogates).

    Returns:
        The canonical form with the decoder source and the techniques seen.
    """
    found: set[str] = set()
    prepared = _prepare(text, found)
    current = _finish(prepared, found)
    if text.isascii():
        return Canonical(prepared, current, frozenset(found))  # ASCII steps are idempotent
    for _ in range(_MAX_PASSES):
        again = _finish(_prepare(current, found), found)
        if again == current:
            break
        current = again
    return Canonical(prepared, current, frozenset(found))


def _prepare(text: str, found: set[str]) -> str:
    if text.isascii():
        return text
    if _ZALGO_RE.search(text) is not None:
        found.add(_FOUND_COMBINING)
    stripped = _DELETE_RE.sub("", text)
    if len(stripped) != len(text):  # only then can the slower checks find anything
        if _zero_width_in_word(text):
            found.add(_FOUND_ZERO_WIDTH)
        if _BIDI_RE.search(text) is not None:
            found.add(_FOUND_BIDI)
    # Leftover marks go before homoglyph folding too, so they cannot split a word.
    return _DELETE_MARKS_RE.sub("", unicodedata.normalize("NFKC", stripped))


def _zero_width_in_word(text: str) -> bool:
    # Only an invisible inside a word is obfuscation: one touching an ASCII letter or digit,
    # or a non-joiner between letters. Joiners between emoji and ZWNJ in Persian words are
    # ordinary text, and so is a byte-order mark at the start.
    for match in _INVISIBLE_RUN_RE.finditer(text):
        start, end = match.span()
        if start == 0 or end == len(text):
            continue
        before, after = text[start - 1], text[end]
        if not (before.isalnum() and after.isalnum()):
            continue
        if before.isascii() or after.isascii() or match.group().strip(_JOINERS):
            return True
    return False


def _finish(prepared: str, found: set[str]) -> str:
    if prepared.isascii():
        text = prepared if prepared.isprintable() else prepared.translate(_ASCII_CONTROLS)
        text = text.lower()
    else:
        text, mixed = fold_homoglyphs(prepared)
        if mixed:
            found.add(_FOUND_HOMOGLYPH)
        text = _DELETE_MARKS_RE.sub("", unicodedata.normalize("NFKC", text.casefold()))
    text, spaced = join_spaced(" ".join(text.split()))
    if spaced:
        found.add(_FOUND_SPACING)
    return text
