"""The text measurements behind the quality stage's Gopher and C4 rules.

:class:`TextView` wraps one text and computes each measurement on first use, so a row
that fails a cheap rule (too few words) never pays for the n-gram counts. Definitions
follow the papers, with the common open re-implementations (datatrove, RedPajama-V2)
settling what the papers leave open:

* words are whitespace tokens with surrounding punctuation stripped, lower-cased; a token
  of punctuation only is not a word (the alphabetic-word rule still sees it as a token);
* lines are the non-blank lines, stripped; paragraphs are separated by blank lines;
* character fractions of n-grams are over the characters of the words (no spaces).
  The top n-gram counts only when it occurs at least twice (a text of unique n-grams has
  no repetition, however short it is); duplicate n-grams mark every word of every
  occurrence of an n-gram seen more than once, each word counted once.

Every measure is total: an empty text gives zeros, never a division by zero.
"""

from __future__ import annotations

import re
import string
from collections import Counter
from collections.abc import Iterable, Mapping
from functools import cached_property

__all__ = ["TextView"]

_PUNCT = string.punctuation + "“”‘’«»„‚‹›¿¡…–—·•"
_BULLETS = ("•", "‣", "◦", "▪", "▫", "■", "□", "●", "○", "▶", "►", "-", "*", "–", "—", "·")
_ELLIPSES = ("...", "…")
_TERMINAL = (".", "!", "?", '"', "'", "”", "’", "»", "。", "！", "？")  # "..." ends in "."
_POLICY = ("terms of use", "privacy policy", "cookie policy", "uses cookies", "use of cookies")
_PARAGRAPH_BREAK = re.compile(r"\n\s*\n")
# A token of no letter: only digits, underscores, punctuation and symbols ("\w" less digits
# and underscore is a letter, in any script).
_NO_LETTER_TOKEN = re.compile(r"(?<!\S)(?:[^\w\s]|[\d_])+(?!\S)")
_LATIN = re.compile(r"[A-Za-z\u00c0-\u024f]")
_NON_LATIN_LETTER = re.compile(r"[^\W\d_A-Za-z\u00c0-\u024f]")
_SCRIPT_SAMPLE = 2_000


class TextView:
    """Lazy measurements of one text (lower-cased once)."""

    def __init__(self, text: str) -> None:
        self.text = text.lower()
        self._top: dict[int, float] = {}
        self._dup: dict[int, float] = {}

    @cached_property
    def tokens(self) -> list[str]:
        """Whitespace tokens."""
        return self.text.split()

    @cached_property
    def words(self) -> list[str]:
        """Tokens with surrounding punctuation stripped; punctuation-only tokens left out."""
        words = [token.strip(_PUNCT) for token in self.tokens]
        return [word for word in words if word] if "" in words else words

    @cached_property
    def word_chars(self) -> int:
        """Characters in all words."""
        return sum(map(len, self.words))

    @cached_property
    def lines(self) -> list[str]:
        """Non-blank lines, stripped."""
        return [line for line in (raw.strip() for raw in self.text.splitlines()) if line]

    @cached_property
    def paragraphs(self) -> list[str]:
        """Blank-line separated blocks, stripped, empty ones left out."""
        return [p for p in (raw.strip() for raw in _PARAGRAPH_BREAK.split(self.text)) if p]

    @property
    def word_count(self) -> float:
        """Number of words."""
        return float(len(self.words))

    @property
    def mean_word_length(self) -> float:
        """Mean characters per word (0 without words)."""
        return self.word_chars / len(self.words) if self.words else 0.0

    @cached_property
    def symbol_ratio(self) -> float:
        """The larger of ``#`` per word and ellipses (``...``, ``…``) per word."""
        hashes = self.text.count("#")
        ellipses = sum(self.text.count(mark) for mark in _ELLIPSES)
        return max(hashes, ellipses) / max(len(self.words), 1)

    @property
    def bullet_lines(self) -> float:
        """Fraction of lines starting with a bullet."""
        return _share(line.startswith(_BULLETS) for line in self.lines)

    @property
    def ellipsis_lines(self) -> float:
        """Fraction of lines ending with an ellipsis."""
        return _share(line.endswith(_ELLIPSES) for line in self.lines)

    @property
    def alpha_words(self) -> float:
        """Fraction of tokens holding at least one letter (1 without tokens)."""
        if not self.tokens:
            return 1.0
        return max(0.0, 1.0 - len(_NO_LETTER_TOKEN.findall(self.text)) / len(self.tokens))

    @cached_property
    def latin_share(self) -> float:
        """Fraction of the letters of the text's start that are Latin script (1 if none)."""
        sample = self.text[:_SCRIPT_SAMPLE]
        if sample.isascii():
            return 1.0
        other = len(_NON_LATIN_LETTER.findall(sample))
        if not other:
            return 1.0
        return 1.0 - other / (other + len(_LATIN.findall(sample)))

    def stop_words(self, lists: Mapping[str, Iterable[str]]) -> tuple[float, str]:
        """The most distinct stop words any one list has in the text, and that list's code."""
        present = set(self.words)
        best, code = 0, ""
        for language, words in lists.items():
            hits = len(present.intersection(words))
            if hits > best:
                best, code = hits, language
        return float(best), code

    @property
    def terminal_lines(self) -> float:
        """Fraction of lines ending in terminal punctuation (C4's line rule)."""
        return _share(line.endswith(_TERMINAL) for line in self.lines)

    @property
    def lorem_ipsum(self) -> float:
        """Occurrences of "lorem ipsum"."""
        return float(self.text.count("lorem ipsum"))

    @property
    def curly_brackets(self) -> float:
        """Occurrences of ``{``."""
        return float(self.text.count("{"))

    @property
    def javascript_lines(self) -> float:
        """Fraction of lines mentioning javascript."""
        return _share("javascript" in line for line in self.lines)

    @property
    def policy_lines(self) -> float:
        """Fraction of lines with policy or cookie boilerplate (C4's list)."""
        return _share(any(p in line for p in _POLICY) for line in self.lines)

    @cached_property
    def _line_dups(self) -> tuple[float, float]:
        return _duplicates(self.lines)

    @cached_property
    def _paragraph_dups(self) -> tuple[float, float]:
        return _duplicates(self.paragraphs)

    @property
    def dup_lines(self) -> float:
        """Fraction of lines that repeat an earlier line."""
        return self._line_dups[0]

    @property
    def dup_line_chars(self) -> float:
        """Fraction of line characters in lines that repeat an earlier line."""
        return self._line_dups[1]

    @property
    def dup_paragraphs(self) -> float:
        """Fraction of paragraphs that repeat an earlier paragraph."""
        return self._paragraph_dups[0]

    @property
    def dup_paragraph_chars(self) -> float:
        """Fraction of paragraph characters in paragraphs that repeat an earlier one."""
        return self._paragraph_dups[1]

    def top_ngram(self, n: int) -> float:
        """Fraction of word characters in the most frequent word n-gram (if repeated)."""
        if n not in self._top:
            self._top[n] = 0.0 if self._top.get(n - 1) == 0.0 else self._top_ngram(n)
        return self._top[n]

    def dup_ngram(self, n: int) -> float:
        """Fraction of word characters inside n-grams that occur more than once."""
        if n not in self._dup:
            self._dup[n] = 0.0 if self._dup.get(n - 1) == 0.0 else self._dup_ngram(n)
        return self._dup[n]

    def _top_ngram(self, n: int) -> float:
        grams = Counter(_ngrams(self.words, n))
        if not grams:
            return 0.0
        gram, count = grams.most_common(1)[0]
        if count < 2:
            return 0.0
        return sum(map(len, gram)) * count / max(self.word_chars, 1)

    def _dup_ngram(self, n: int) -> float:
        grams = list(_ngrams(self.words, n))
        counts = Counter(grams)
        if not grams or max(counts.values()) < 2:
            return 0.0
        marked = bytearray(len(self.words))
        for start, gram in enumerate(grams):
            if counts[gram] > 1:
                marked[start : start + n] = b"\x01" * n
        covered = sum(len(word) for word, mark in zip(self.words, marked, strict=True) if mark)
        return covered / max(self.word_chars, 1)


def _ngrams(words: list[str], n: int) -> Iterable[tuple[str, ...]]:
    return zip(*(words[i:] for i in range(n)), strict=False)


def _share(flags: Iterable[bool]) -> float:
    """The fraction of true flags (0 for none); flags come one per line."""
    values = list(flags)
    return sum(values) / len(values) if values else 0.0


def _duplicates(items: list[str]) -> tuple[float, float]:
    """(fraction of items repeating an earlier one, fraction of their characters)."""
    if not items:
        return 0.0, 0.0
    seen: set[str] = set()
    count = chars = total = 0
    for item in items:
        total += len(item)
        if item in seen:
            count += 1
            chars += len(item)
        else:
            seen.add(item)
    return count / len(items), chars / max(total, 1)
