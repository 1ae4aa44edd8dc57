"""Transforms of the canonical text: undoing leetspeak, rot13 and reversal.

Each applies only when a cheap test says it fits, so ordinary prose gets no extra view:
leetspeak needs a word with leet characters between letters, rot13 and reversal need the
transformed text to contain clearly more common English words than the text itself.
"""

from __future__ import annotations

import re
import string

__all__ = ["english_views", "leet_view", "rot13"]

_ROT13 = str.maketrans(
    string.ascii_lowercase + string.ascii_uppercase,
    string.ascii_lowercase[13:]
    + string.ascii_lowercase[:13]
    + string.ascii_uppercase[13:]
    + string.ascii_uppercase[:13],
)

# Common words of requests and instructions. Single letters ("a", "i") are left out: they
# survive rot13 as other single letters and reversal unchanged, so they prove nothing.
_STOPWORDS = frozenset((
    "the", "to", "how", "do", "does", "you", "your", "make", "what", "is", "are", "was", "be",
    "and", "or", "of", "in", "on", "at", "by", "for", "from", "can", "could", "would", "should",
    "will", "with", "me", "my", "it", "its", "this", "that", "these", "those", "build", "create",
    "write", "give", "tell", "explain", "show", "get", "use", "want", "need", "know", "why",
    "where", "when", "who", "which", "about", "an", "if", "so", "we", "they", "he", "she", "not",
    "have", "has", "there", "their", "please", "step", "steps", "way", "ways", "instructions",
    "ignore", "previous", "all", "any", "some", "into", "without", "someone", "people", "kill",
    "bomb", "weapon", "drug", "hack", "system", "prompt",
))  # fmt: skip
# Left out where the encoded form is itself common (rot13 "be" <-> "or", "he" -> "ur";
# reversed "on" -> "no", "was" -> "saw"), since it would count plain text as encoded.
_ROT13_WORDS = frozenset(w.translate(_ROT13) for w in _STOPWORDS - {"be", "or", "he"})
_REVERSED_WORDS = frozenset(
    w[::-1] for w in _STOPWORDS - {"on", "no", "was", "me", "not", "are", "it", "so", "step"}
)
_MIN_HITS = 2
_MIN_SEGMENT_HITS = 3  # a short sentence matches two words by chance ("32 gb or more")
_MIN_SHARE = 0.3  # of the words; English prose is 40-60 % such words
_WORD_RE = re.compile(r"[a-z]{2,}+")
# An encoded request often follows a plain preface ("decode this: ..."), so each sentence
# or quoted part is also judged on its own.
_SEGMENT_RE = re.compile(r"[.:;!?\"“”()\[\]{}<>]++")

# Leet characters between two letters ("h0w", "m4ke", "pa$$") mark leetspeak; digits at
# the end of a word ("mp3", "python3", "ipv4") do not.
_LEET_HINT_RE = re.compile(r"[A-Za-z][013457$]++[A-Za-z]")
_LEET_TOKEN_RE = re.compile(r"[A-Za-z0-9@$!|]++")
_LEET = str.maketrans("0134579@$!|", "oieastgasil")
# Words with these digits or with three digits in a row are identifiers or numbers (b2b,
# x86, h264, A320, hashes), never leet; nor are hex numbers and escapes ("d34d", "x3f").
_NOT_LEET_RE = re.compile(r"[268]|[0-9]{3}|^(?:0?[xX])?[0-9A-Fa-f]++$")
# Handles, hashtags, URLs, paths, e-mail addresses and identifiers mix letters and digits
# without being leetspeak.
_NOT_PROSE_RE = re.compile(r"(?<!\w)[@#]\w|[/\\=_]|www\.|\w@.*\.")
_CHUNK_RE = re.compile(r"\S++")
_DIGITS_RE = re.compile(r"[0-9]")
_NON_LETTERS_RE = re.compile(r"[^A-Za-z]++")
_LEET_WORDS = _STOPWORDS | {
    "attack", "bombs", "drugs", "explosive", "gun", "guns", "malware", "meth", "murder",
    "nude", "password", "poison", "sex", "steal", "suicide", "virus", "weapons",
}  # fmt: skip
_UPPER_RE = re.compile(r"[A-Z]++")
_LOWER_RE = re.compile(r"[a-z]++")


def rot13(text: str) -> str:
    """Apply rot13 to ASCII letters.

    Args:
        text: any text.

    Returns:
        The text with every ASCII letter rotated by 13 places.
    """
    return text.translate(_ROT13)


def english_views(canonical: str) -> list[tuple[str, str]]:
    """Find rot13 and reversed readings that are clearly English.

    A reading qualifies when, in the whole text or in one sentence of it, it has at least
    two distinct common English words, they make up at least 30 % of the words, and there
    are more of them than the untransformed text has.

    Args:
        canonical: the canonical text.

    Returns:
        ``(method, text)`` pairs for ``rot13`` and ``reversed``.
    """
    words = _WORD_RE.findall(canonical)
    if len(words) < _MIN_HITS:
        return []
    views = []
    if _reads_as_english(canonical, words, _ROT13_WORDS):
        views.append(("rot13", rot13(canonical)))
    if _reads_as_english(canonical, words, _REVERSED_WORDS):
        views.append(("reversed", canonical[::-1]))
    return views


def _reads_as_english(text: str, words: list[str], vocabulary: frozenset[str]) -> bool:
    if sum(map(vocabulary.__contains__, words)) < _MIN_HITS:
        return False  # the common case: no sign of an encoding at all
    if _mostly_vocabulary(words, vocabulary):
        return True
    segments = _SEGMENT_RE.split(text)
    return len(segments) > 1 and any(
        _mostly_vocabulary(_WORD_RE.findall(segment), vocabulary, _MIN_SEGMENT_HITS)
        for segment in segments
    )


def _mostly_vocabulary(
    words: list[str], vocabulary: frozenset[str], min_hits: int = _MIN_HITS
) -> bool:
    hits = sum(map(vocabulary.__contains__, words))
    if hits < min_hits or hits < _MIN_SHARE * len(words):
        return False
    plain = sum(map(_STOPWORDS.__contains__, words))
    return hits > plain and len(vocabulary.intersection(words)) >= min_hits


def leet_view(prepared: str, canonical: str) -> str | None:
    """Undo leetspeak in the words that use it ("h0w t0 m4k3" -> "how to make").

    Args:
        prepared: the text with its case, where leet words are recognised.
        canonical: the canonical text, which the view is made from.

    Returns:
        The canonical text with leet characters in mixed words replaced by letters, or None
        when no word is written in leetspeak.
    """
    if _LEET_HINT_RE.search(prepared) is None or not _has_leet_word(prepared):
        return None
    decoded = _LEET_TOKEN_RE.sub(_unleet, canonical)
    return decoded if decoded != canonical else None


def _has_leet_word(text: str) -> bool:
    shouting: bool | None = None  # computed once, on the first upper-case candidate
    for chunk in _CHUNK_RE.findall(text):
        if _LEET_HINT_RE.search(chunk) is None or _NOT_PROSE_RE.search(chunk) is not None:
            continue
        for token in filter(_is_leet, _LEET_TOKEN_RE.findall(chunk)):
            # Upper-case codes in ordinary text are part numbers ("MC1R", "A1C"); upper
            # case is leetspeak when it spells a known word ("B0MB") or the whole text
            # shouts ("H0W T0 M4K3").
            if not token.isupper() or token.translate(_LEET).lower() in _LEET_WORDS:
                return True
            if shouting is None:
                shouting = _mostly_upper(text)
            if shouting:
                return True
    return False


def _mostly_upper(text: str) -> bool:
    upper = sum(map(len, _UPPER_RE.findall(text)))
    return upper * 2 >= sum(map(len, _LOWER_RE.findall(text))) + upper


def _is_leet(token: str) -> bool:
    if _LEET_HINT_RE.search(token) is None or _NOT_LEET_RE.search(token) is not None:
        return False
    letters = _NON_LETTERS_RE.sub("", token)
    if len(_DIGITS_RE.findall(token)) > len(letters):
        return False
    # Random ids and product names mix case ("bzRDl3kF7U", "W3Schools"); words do not.
    return letters.islower() or letters.isupper() or letters.istitle()


def _unleet(match: re.Match[str]) -> str:
    token = match.group()
    if token.isalpha() or token.isdigit() or _NOT_LEET_RE.search(token) is not None:
        return token  # plain words and plain numbers ("2024") stay as they are
    if _NON_LETTERS_RE.fullmatch(token) is not None:
        return token  # no letters at all ("$5", "!!")
    core = token.rstrip("!")  # a trailing "!" is punctuation, not an "i"
    return core.translate(_LEET) + token[len(core) :]
