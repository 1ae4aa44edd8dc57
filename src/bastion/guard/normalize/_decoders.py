"""Decoders for payloads hidden in a text: base64, hex and percent-encoding.

Each decoder finds candidates with one linear pattern, decodes them strictly, and keeps a
result only when :func:`looks_like_text` accepts it, so binary junk (hashes, keys, ids)
never becomes a view.
"""

from __future__ import annotations

import binascii
import re
from collections import Counter
from collections.abc import Callable
from itertools import islice
from urllib.parse import unquote_plus

__all__ = ["base64_payloads", "hex_payloads", "looks_like_text", "url_payload"]

# Candidates are disjoint, so decoding all of them is linear; the caps only bound the
# constant factor and the number of payloads the caller goes on to normalise.
_MAX_CANDIDATES = 4096
_MAX_PAYLOADS = 8
_MIN_PCT_ESCAPES = 3
# looks_like_text() judges a prefix: enough to tell prose from junk, cheap on long payloads.
_SAMPLE = 4096

_B64_RE = re.compile(r"[A-Za-z0-9+/_-]{16,}+={0,2}")
_URLSAFE_TO_STANDARD = str.maketrans("-_", "+/")
# The leading lookahead lets the regex engine skip quickly to a possible start.
_HEX_RE = re.compile(r"(?=[0-9A-Fa-f\\])(?:(?:\\x|0[xX])?[0-9A-Fa-f]{2}[ :,]?+){8,}+")
_HEX_PAIR_RE = re.compile(r"(?:\\x|0[xX])?([0-9A-Fa-f]{2})")
_PCT_RE = re.compile(r"%[0-9A-Fa-f]{2}")
# A payload that is itself one encoded run (hex inside base64) is kept for the next layer
# even though it does not read as prose.
_ENCODED_RE = re.compile(r"[A-Za-z0-9+/_-]{16,}+={0,2}|" + _HEX_RE.pattern)

_BAD_RE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffd]")
_WORDISH_RE = re.compile(r"[\w\s]")
_LETTER_RE = re.compile(r"[^\W\d_]")


def base64_payloads(text: str) -> list[str]:
    """Decode runs of 16 or more base64 characters (standard or URL-safe, padded or not).

    Args:
        text: the decoder source (case kept).

    Returns:
        The decoded payloads that read as text, in order of appearance.
    """
    return _collect(_B64_RE, text, _decode_base64)


def _decode_base64(token: str) -> str | None:
    core = token.rstrip("=")
    if len(core) % 4 == 1:
        return None  # no base64 encoding has this length
    core = core.translate(_URLSAFE_TO_STANDARD)
    try:
        raw = binascii.a2b_base64(core + "=" * (-len(core) % 4), strict_mode=True)
    except binascii.Error:
        return None
    return _as_text(raw)


def hex_payloads(text: str) -> list[str]:
    """Decode runs of 8 or more hex byte pairs (``41 42``, ``41:42``, ``\\x41``, ``0x41``).

    Args:
        text: the decoder source.

    Returns:
        The decoded payloads that read as text, in order of appearance.
    """
    return _collect(_HEX_RE, text, _decode_hex)


def _decode_hex(token: str) -> str | None:
    return _as_text(bytes.fromhex("".join(_HEX_PAIR_RE.findall(token))))


def _collect(
    candidates: re.Pattern[str], text: str, decode: Callable[[str], str | None]
) -> list[str]:
    """Decode the first candidates of ``text``; bounded in candidates and payloads."""
    if len(text) < 16:
        return []
    found = []
    for match in islice(candidates.finditer(text), _MAX_CANDIDATES):
        decoded = decode(match.group())
        if decoded is not None:
            found.append(decoded)
            if len(found) >= _MAX_PAYLOADS:
                break
    return found


def url_payload(text: str) -> str | None:
    """Undo percent-encoding when the text holds three or more ``%XX`` escapes.

    Args:
        text: the decoder source.

    Returns:
        The decoded text, or None when there is nothing (or only junk) to decode.
    """
    if "%" not in text:
        return None
    if sum(1 for _ in islice(_PCT_RE.finditer(text), _MIN_PCT_ESCAPES)) < _MIN_PCT_ESCAPES:
        return None
    decoded = unquote_plus(text)
    return decoded if decoded != text and looks_like_text(decoded) else None


def _as_text(raw: bytes) -> str | None:
    try:
        decoded = raw.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if looks_like_text(decoded) or _ENCODED_RE.fullmatch(decoded.strip()) is not None:
        return decoded
    return None


def looks_like_text(text: str) -> bool:
    """Tell decoded prose from binary junk that happens to be valid UTF-8.

    Text must have at least 30 % letters, at most 5 % control or replacement characters,
    at least 70 % word characters or whitespace, and its non-ASCII letters mostly from one
    script.

    Args:
        text: a decoded payload.

    Returns:
        True when the payload reads as text.
    """
    if len(text) < 4:
        return False
    sample = text[:_SAMPLE]
    size = len(sample)
    if len(_LETTER_RE.findall(sample)) * 10 < size * 3:
        return False
    if len(_BAD_RE.findall(sample)) * 20 > size:
        return False
    if len(_WORDISH_RE.findall(sample)) * 10 < size * 7:
        return False
    return sample.isascii() or _one_script(sample)


def _one_script(sample: str) -> bool:
    # Random bytes that decode as UTF-8 scatter over many blocks; real text stays in one.
    buckets = Counter(_script_bucket(ord(c)) for c in sample if c > "\x7f" and c.isalpha())
    total = sum(buckets.values())
    return total == 0 or max(buckets.values()) * 10 >= total * 8


def _script_bucket(code: int) -> int:
    if code < 0x250 or 0x1E00 <= code < 0x1F00:
        return 0  # Latin with its accents, in whichever block they live
    if 0x2E80 <= code < 0xA000 or 0xAC00 <= code < 0xD800 or 0xF900 <= code < 0xFB00:
        return -1  # Chinese, Japanese and Korean share their text
    return code >> 8
