"""Cut long text into the overlapping units an encoder of bounded length can read.

MiniLM reads at most 256 word pieces (the fine-tuned prompt classifier was trained on 128).
Truncating would make "pad the prompt, put the request at the end" a bypass, and
mean-pooling a whole page dilutes one hidden sentence, so long text is read as overlapping
windows (and, for the injection detector, sentence chunks) and scored as its worst unit.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Final

from bastion.core.errors import ConfigError, InputError
from bastion.models.encoder import TOKENIZER_SHA256, packaged_tokenizer_path, verify_sha256

if TYPE_CHECKING:
    from collections.abc import Sequence

    from tokenizers import Tokenizer

__all__ = ["Windower"]

_SENTENCE_ENDS: Final = frozenset({".", "!", "?", ";", ":", ">"})


@lru_cache(maxsize=2)
def _tokenizer(path: Path, expected: str) -> Tokenizer:
    """A verified tokenizer that never truncates (windows need every offset)."""
    from tokenizers import Tokenizer

    verify_sha256(path, expected)
    tokenizer = Tokenizer.from_file(str(path))
    tokenizer.no_truncation()
    tokenizer.no_padding()
    return tokenizer


class Windower:
    """Cuts text into the units the detector scores: windows plus sentence chunks.

    A text of at most ``tokens`` MiniLM word pieces is one unit. A longer one is read at two
    scales: overlapping *windows* of ``tokens`` word pieces every ``stride`` (the shape of a
    whole template), and *sentence chunks* of at most ``chunk_tokens`` word pieces that
    start and end at sentence boundaries (``.``, ``!``, ``?``, ``;``, ``:``, ``>``), each
    sharing its first sentence with the previous chunk, so an instruction hidden in a long
    document fills most of some unit instead of a tenth of a window.

    Args:
        tokens: word pieces per window (the encoder adds two special tokens).
        stride: word pieces between window starts (``tokens - stride`` overlap).
        chunk_tokens: the most word pieces per sentence chunk; 0 reads windows only.

    Raises:
        ConfigError: when ``stride`` is not in ``1..tokens`` or ``chunk_tokens`` is not in
            ``0..tokens``.
    """

    def __init__(self, tokens: int = 96, stride: int = 64, chunk_tokens: int = 0) -> None:
        if not 0 < stride <= tokens:
            raise ConfigError(f"window stride must be in 1..{tokens}, got {stride}")
        if not 0 <= chunk_tokens <= tokens:
            raise ConfigError(f"chunk_tokens must be in 0..{tokens}, got {chunk_tokens}")
        self.tokens = tokens
        self.stride = stride
        self.chunk_tokens = chunk_tokens

    def units(self, text: str) -> tuple[list[str], list[str]]:
        """``(windows, sentence chunks)`` of ``text``; a short text is one window."""
        clean = text.encode("utf-8", "replace").decode("utf-8")  # lone surrogates
        encoding = _tokenizer(packaged_tokenizer_path(), TOKENIZER_SHA256).encode(
            clean, add_special_tokens=False
        )
        offsets = encoding.offsets
        if len(offsets) <= self.tokens:
            return [clean], []
        windows = []
        for start in range(0, len(offsets), self.stride):
            end = min(start + self.tokens, len(offsets))
            windows.append(clean[offsets[start][0] : offsets[end - 1][1]])
            if end == len(offsets):
                break
        spans = _chunks(encoding.tokens, self.chunk_tokens) if self.chunk_tokens else []
        chunks = [clean[offsets[a][0] : offsets[b - 1][1]] for a, b in spans]
        return windows, chunks

    def split(self, text: str) -> list[str]:
        """Every unit of ``text`` to score, windows first, without repeats."""
        windows, chunks = self.units(text)
        return list(dict.fromkeys(windows + chunks))

    def split_within(self, texts: Sequence[str], limit: int) -> list[str]:
        """The units of ``texts`` to score when at most ``limit`` fit: every window (so no
        part of any text goes unread), then sentence chunks spread evenly over the text,
        first and last included, as many as fit. Chunks sharpen a hidden sentence; windows
        are the coverage, so they are never dropped.

        Raises:
            InputError: the windows alone exceed ``limit`` (the guard fails closed).
        """
        windows: dict[str, None] = {}
        chunks: dict[str, None] = {}
        for text in texts:
            w, c = self.units(text)
            windows.update(dict.fromkeys(w))
            chunks.update(dict.fromkeys(c))
        if len(windows) > limit:
            raise InputError(f"{len(windows)} windows exceed the limit of {limit}")
        extra = [c for c in chunks if c not in windows]
        return [*windows, *_spread(extra, limit - len(windows))]


def _spread(items: Sequence[str], room: int) -> list[str]:
    """At most ``room`` of ``items``, evenly spaced, first and last kept, in order."""
    if room <= 0:
        return []
    if len(items) <= room:
        return list(items)
    if room == 1:
        return [items[-1]]
    step = (len(items) - 1) / (room - 1)
    return [items[round(i * step)] for i in range(room)]


def _sentences(tokens: list[str], limit: int) -> list[tuple[int, int]]:
    """Token spans of sentences, long ones cut into ``limit``-sized pieces."""
    spans, start = [], 0
    for i, token in enumerate(tokens):
        if token in _SENTENCE_ENDS or i == len(tokens) - 1:
            spans.append((start, i + 1))
            start = i + 1
    out = []
    for a, b in spans:
        while b - a > limit:
            out.append((a, a + limit))
            a += limit * 3 // 4
        out.append((a, b))
    return out


def _chunks(tokens: list[str], limit: int) -> list[tuple[int, int]]:
    """Sentences packed into chunks of at most ``limit`` tokens, one sentence overlap."""
    units = _sentences(tokens, limit)
    out, i = [], 0
    while i < len(units):
        start, end = units[i]
        j = i + 1
        while j < len(units) and units[j][1] - start <= limit:
            end = units[j][1]
            j += 1
        out.append((start, end))
        if j >= len(units):
            break
        i = j - 1 if j - i > 1 else j
    return out
