"""Letters from other scripts that render like ASCII Latin letters (homoglyphs).

Fullwidth and mathematical letters are not listed: NFKC already maps them to ASCII. The
table covers the confusables seen in practice: Cyrillic, Greek and Armenian look-alikes,
IPA and small-capital Latin letters. Every key is a single letter (``str.isalpha``), so
word splitting treats it like any other letter.
"""

from __future__ import annotations

from types import MappingProxyType

__all__ = ["CONFUSABLES", "OTHER_SCRIPT"]

_CYRILLIC = {
    "а": "a",
    "е": "e",
    "һ": "h",
    "і": "i",
    "ј": "j",
    "ӏ": "l",
    "о": "o",
    "р": "p",
    "с": "c",
    "ԁ": "d",
    "ѕ": "s",
    "у": "y",
    "х": "x",
    "ԛ": "q",
    "ԝ": "w",
    "ү": "y",
    "А": "A",
    "В": "B",
    "Е": "E",
    "К": "K",
    "М": "M",
    "Н": "H",
    "О": "O",
    "Р": "P",
    "С": "C",
    "Т": "T",
    "Х": "X",
    "У": "Y",
    "Ѕ": "S",
    "І": "I",
    "Ј": "J",
    "Ԛ": "Q",
    "Ԝ": "W",
    "Һ": "H",
    "Ү": "Y",
    "Ӏ": "I",
}

_GREEK = {
    "α": "a",
    "ο": "o",
    "ν": "v",
    "ρ": "p",
    "τ": "t",
    "κ": "k",
    "ι": "i",
    "υ": "u",
    "χ": "x",
    "γ": "y",
    "ω": "w",
    "η": "n",
    "ϲ": "c",
    "ϳ": "j",
    "Α": "A",
    "Β": "B",
    "Ε": "E",
    "Ζ": "Z",
    "Η": "H",
    "Ι": "I",
    "Κ": "K",
    "Μ": "M",
    "Ν": "N",
    "Ο": "O",
    "Ρ": "P",
    "Τ": "T",
    "Υ": "Y",
    "Χ": "X",
    "Ϲ": "C",
    "Ϳ": "J",
}

_ARMENIAN = {"օ": "o", "ս": "u", "ո": "n", "հ": "h", "զ": "q", "Ս": "U", "Օ": "O"}

# Latin-script letters outside ASCII: IPA letters and small capitals survive NFKC unchanged.
_LATIN_EXTENDED = {
    "ɡ": "g",
    "ɑ": "a",
    "ı": "i",
    "ȷ": "j",
    "ɩ": "i",
    "ǀ": "l",
    "ɪ": "i",
    "ʏ": "y",
    "ɴ": "n",
    "ʀ": "r",
    "ʙ": "b",
    "ʜ": "h",
    "ʟ": "l",
    "ɢ": "g",
    "ᴀ": "a",
    "ᴄ": "c",
    "ᴅ": "d",
    "ᴇ": "e",
    "ᴊ": "j",
    "ᴋ": "k",
    "ᴍ": "m",
    "ᴏ": "o",
    "ᴘ": "p",
    "ᴛ": "t",
    "ᴜ": "u",
    "ᴠ": "v",
    "ᴡ": "w",
    "ᴢ": "z",
    "ꜱ": "s",
}

CONFUSABLES: MappingProxyType[str, str] = MappingProxyType(
    {**_CYRILLIC, **_GREEK, **_ARMENIAN, **_LATIN_EXTENDED}
)
"""Confusable letter -> the ASCII letter it imitates (case preserved where it has case)."""

OTHER_SCRIPT: frozenset[str] = frozenset({**_CYRILLIC, **_GREEK, **_ARMENIAN})
"""The confusables from non-Latin scripts: only these make a word mixed-script.

IPA letters and small capitals are Latin; phonetic transcriptions such as /faɪv/ use them.
"""
