"""The dedup stage: exact and near duplicates, the first copy in corpus order kept.

Two tests per row, both on ``Document.content`` lowercased with its whitespace collapsed:

- *exact*: a 16-byte BLAKE2b of that text; a row whose hash a kept row already has is
  dropped (``exact_duplicate``).
- *near*: a MinHash signature (datasketch, ``num_perm`` permutations, its 2.0 ``affine32``
  scheme: 32-bit values, half the memory of 64-bit ones and collision-free permutations) of
  the row's word ``shingle_words``-grams, looked up in an LSH band index; a candidate whose
  estimated Jaccard similarity is at least ``threshold`` makes the row a
  ``near_duplicate`` of it. The numbers of bands and rows per band are the ones datasketch's
  :class:`~datasketch.MinHashLSH` picks for the threshold and ``recall_weight`` (14 x 9
  for 0.8, 128 and 0.9).

A word is a run of ASCII letters, digits, ``_`` and non-ASCII characters: ASCII
punctuation and whitespace separate words, so changed punctuation does not hide a copy.
Text with no spaces (Chinese, Japanese) is one long word, so such rows, like every row
with fewer words than a shingle, are checked by the exact hash only.

:meth:`DedupStage.features` (on the workers) computes both; it is deterministic: word
hashes are a fixed polynomial hash, the MinHash seed is :data:`MINHASH_SEED`, so every
process gives the same signature. :meth:`DedupStage.observe` (in the driver, corpus order)
keeps per kept row only its hash, its signature (``4 * num_perm`` bytes in a chunked
array), its band keys and a reference to its id: about 1.5 KB a row (docs/design/0059).
The band index is our own small one rather than a :class:`~datasketch.MinHashLSH`: with
the same bands, that class measured 3.4 KB a row (a set per bucket), 4x the memory for 1M
rows. A bucket holds at most :data:`MAX_BUCKET` rows (templated text cannot make lookups
quadratic); a copy is still found through its other bands.

Every verdict's details carry ``cluster``: the id of the first kept row of the row's
cluster (a kept row's own id), which the output and the report's cluster sizes read.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from pydantic import Field

from bastion.core.errors import ConfigError
from bastion.curate.document import Document
from bastion.curate.stages.base import StageDeps, StageOptions, stage_plugin
from bastion.curate.verdict import CuratedRow, RowAction, StageVerdict

__all__ = [
    "MAX_BUCKET",
    "MINHASH_SEED",
    "DedupFeature",
    "DedupOptions",
    "DedupStage",
    "Words",
    "gram_hashes",
    "normalise",
    "split_words",
]

MINHASH_SEED = 1
"""The MinHash permutations' seed: fixed, so every worker computes the same signatures."""
MAX_BUCKET = 100
"""At most this many kept rows per LSH bucket."""
_SCHEME = "affine32"
_CHUNK_ROWS = 4_096  # signatures are stored in blocks of this many rows
_BATCH = 8_192  # shingles per MinHash.update_batch call (bounds its num_perm-wide matrix)
_U64 = np.uint64
_WORD_BYTE = np.array(
    [(chr(b).isascii() and (chr(b).isalnum() or chr(b) == "_")) or b >= 0x80 for b in range(256)]
)
_WORD_BYTE.flags.writeable = False
_BASE = 0x100000001B3  # odd, so it has an inverse modulo 2**64
_INV_BASE = pow(_BASE, -1, 1 << 64)


def _splitmix(count: int) -> npt.NDArray[np.uint64]:
    state, out = 0x9E3779B97F4A7C15, []
    for _ in range(count):
        state = (state + 0x9E3779B97F4A7C15) % (1 << 64)
        z = ((state ^ (state >> 30)) * 0xBF58476D1CE4E5B9) % (1 << 64)
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) % (1 << 64)
        out.append((z ^ (z >> 31)) | 1)
    array = np.array(out, dtype=_U64)
    array.flags.writeable = False
    return array


_MIX = _splitmix(64)  # one odd multiplier per position in an n-gram


class DedupOptions(StageOptions):
    """Options of the dedup stage.

    Attributes:
        exact: drop exact copies (same text up to case and whitespace).
        near: drop near copies (MinHash LSH).
        threshold: estimated Jaccard similarity of word shingles at which a row is a near
            copy (0.8, as Lee et al. 2022; FineWeb uses about 0.75).
        num_perm: MinHash permutations (more: a finer estimate, more memory and time).
        shingle_words: words per shingle (5, as Lee et al. 2022 and FineWeb).
        recall_weight: how datasketch weighs missed pairs against false candidates when it
            picks the bands (its ``weights=(1 - w, w)``). Every candidate is checked
            against ``threshold`` on its estimated Jaccard, so a false candidate costs one
            comparison and a missed pair a duplicate: 0.9 gives 14 bands of 9 rows (99.5 %
            of pairs at Jaccard 0.88 found, against 85 % with datasketch's default 0.5).
    """

    exact: bool = True
    near: bool = True
    threshold: float = Field(default=0.8, gt=0.0, lt=1.0)
    num_perm: int = Field(default=128, ge=16, le=1024)
    shingle_words: int = Field(default=5, ge=1, le=len(_MIX))
    recall_weight: float = Field(default=0.9, gt=0.0, lt=1.0)


@dataclass(frozen=True, slots=True)
class DedupFeature:
    """What the workers compute for one row (picklable).

    Attributes:
        digest: 16-byte BLAKE2b of the normalised text, or None when ``exact`` is off.
        signature: the MinHash values (uint32, ``num_perm`` of them), or None when ``near``
            is off or the row has fewer words than a shingle.
    """

    digest: bytes | None
    signature: npt.NDArray[np.uint32] | None


@dataclass(frozen=True, slots=True)
class Words:
    """The words of a normalised text: byte spans into ``data`` and a 64-bit hash each."""

    data: bytes
    starts: npt.NDArray[np.intp]
    ends: npt.NDArray[np.intp]
    hashes: npt.NDArray[np.uint64]

    def __len__(self) -> int:
        return len(self.hashes)

    def text(self, first: int, count: int) -> str:
        """Words ``first`` to ``first + count - 1`` joined by spaces."""
        stop = first + count
        spans = zip(self.starts[first:stop], self.ends[first:stop], strict=True)
        return " ".join(self.data[s:e].decode("utf-8", "replace") for s, e in spans)


def normalise(text: str) -> str:
    """``text`` lowercased, runs of whitespace made one space, ends stripped."""
    return " ".join(text.lower().split())


def split_words(normalised: str) -> Words:
    """The words of ``normalised`` (see :func:`normalise`) with deterministic hashes.

    Each word's hash is a polynomial hash of its UTF-8 bytes modulo 2**64, computed for all
    words at once from one prefix sum, then mixed (MurmurHash3's finaliser).
    """
    data = normalised.encode("utf-8", "surrogatepass")
    raw = np.frombuffer(data, dtype=np.uint8)
    padded = np.zeros(len(raw) + 2, dtype=np.int8)
    padded[1:-1] = _WORD_BYTE[raw]
    edges = padded[1:] - padded[:-1]
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    if not len(starts):
        return Words(data, starts, ends, np.zeros(0, dtype=_U64))
    prefix = np.zeros(len(raw) + 1, dtype=_U64)
    np.cumsum(raw.astype(_U64) * _powers(_INV_POWERS, len(raw)), out=prefix[1:])
    sums = prefix[ends] - prefix[starts]
    return Words(data, starts, ends, _fmix64(sums * _powers(_POWERS, len(raw))[starts]))


def gram_hashes(hashes: npt.NDArray[np.uint64], n: int) -> npt.NDArray[np.uint64]:
    """One 64-bit hash per run of ``n`` consecutive words (empty when there are fewer)."""
    count = len(hashes) - n + 1
    if count <= 0:
        return np.zeros(0, dtype=_U64)
    out = hashes[:count] * _MIX[0]
    for k in range(1, n):
        out += hashes[k : k + count] * _MIX[k]
    return _fmix64(out)


def _power_table(base: int, count: int) -> npt.NDArray[np.uint64]:
    powers = np.full(count, base, dtype=_U64)
    powers[0] = 1
    np.cumprod(powers, out=powers)
    powers.flags.writeable = False
    return powers


def _powers(table: npt.NDArray[np.uint64], count: int) -> npt.NDArray[np.uint64]:
    """``base ** i`` for ``i < count``: from the table, extended for longer texts."""
    if count <= len(table):
        return table[:count]
    return _power_table(int(table[1]), count)


_POWERS = _power_table(_BASE, 16_384)  # read-only tables of base ** i (short texts)
_INV_POWERS = _power_table(_INV_BASE, 16_384)


def _fmix64(h: npt.NDArray[np.uint64]) -> npt.NDArray[np.uint64]:
    h = h ^ (h >> _U64(33))
    h = h * _U64(0xFF51AFD7ED558CCD)
    h = h ^ (h >> _U64(33))
    h = h * _U64(0xC4CEB9FE1A85EC53)
    return h ^ (h >> _U64(33))


class _BandIndex:
    """LSH bands over the kept rows' signatures, and the signatures themselves."""

    def __init__(self, bands: int, rows: int, num_perm: int) -> None:
        self._ranges = [(i * rows, (i + 1) * rows) for i in range(bands)]
        self._tables: list[dict[int, int | list[int]]] = [{} for _ in range(bands)]
        self._blocks: list[npt.NDArray[np.uint32]] = []
        self._ids: list[str] = []
        self._num_perm = num_perm

    def keys(self, signature: npt.NDArray[np.uint32]) -> list[int]:
        """The row's key in each band (the driver's own ``hash``: the index never leaves it)."""
        return [hash(signature[start:end].tobytes()) for start, end in self._ranges]

    def best(self, keys: list[int], signature: npt.NDArray[np.uint32]) -> tuple[str, float] | None:
        """The candidate most like ``signature`` (earliest on ties) and its estimated
        Jaccard similarity, or None when no band matches."""
        found: set[int] = set()
        for table, key in zip(self._tables, keys, strict=True):
            hit = table.get(key)
            if isinstance(hit, int):
                found.add(hit)
            elif hit is not None:
                found.update(hit)
        if not found:
            return None
        order = sorted(found)
        stored = np.stack([self._blocks[k // _CHUNK_ROWS][k % _CHUNK_ROWS] for k in order])
        scores = np.count_nonzero(stored == signature, axis=1)
        best = int(np.argmax(scores))
        return self._ids[order[best]], float(scores[best]) / self._num_perm

    def add(self, doc_id: str, keys: list[int], signature: npt.NDArray[np.uint32]) -> None:
        """Index a kept row."""
        row = len(self._ids)
        self._ids.append(doc_id)
        if row % _CHUNK_ROWS == 0:
            self._blocks.append(np.empty((_CHUNK_ROWS, self._num_perm), dtype=np.uint32))
        self._blocks[-1][row % _CHUNK_ROWS] = signature
        for table, key in zip(self._tables, keys, strict=True):
            hit = table.get(key)
            if hit is None:
                table[key] = row
            elif isinstance(hit, int):
                table[key] = [hit, row]
            elif len(hit) < MAX_BUCKET:
                hit.append(row)


@stage_plugin(
    "dedup",
    kind="corpus",
    summary="exact (BLAKE2b) and near (MinHash LSH, Jaccard>=0.8) duplicates; first copy kept",
    options=DedupOptions,
)
class DedupStage:
    """Drops copies of rows kept earlier in corpus order; names every row's cluster.

    Raises:
        ConfigError: datasketch is not installed, or ``threshold`` with ``num_perm`` leaves
            fewer than two LSH bands.
    """

    def __init__(self, options: DedupOptions, deps: StageDeps) -> None:
        self.name = "dedup"
        self._options = options
        try:
            from datasketch import MinHash, MinHashLSH
        except ImportError as exc:
            raise ConfigError(
                "the dedup stage needs datasketch: pip install 'bastion[curate]'"
            ) from exc
        try:
            params = MinHashLSH(
                threshold=options.threshold,
                num_perm=options.num_perm,
                weights=(1.0 - options.recall_weight, options.recall_weight),
            )
        except ValueError as exc:
            raise ConfigError(
                f"dedup: threshold {options.threshold} with num_perm {options.num_perm}: "
                f"{exc}; raise num_perm or lower threshold"
            ) from None
        self._minhash: Any = MinHash
        self._permutations = MinHash(
            num_perm=options.num_perm, seed=MINHASH_SEED, scheme=_SCHEME
        ).permutations
        self._exact: dict[bytes, str] = {}
        self._index = _BandIndex(params.b, params.r, options.num_perm)
        self._near_rule = f"dedup.jaccard>={options.threshold:g}"

    def features(self, docs: Sequence[Document]) -> list[Any]:
        """One :class:`DedupFeature` per document."""
        return [self.feature(doc.content) for doc in docs]

    def feature(self, text: str) -> DedupFeature:
        """The exact hash and the MinHash signature of ``text``."""
        options = self._options
        normalised = normalise(text)
        digest = None
        if options.exact:
            encoded = normalised.encode("utf-8", "surrogatepass")
            digest = hashlib.blake2b(encoded, digest_size=16).digest()
        signature = None
        if options.near:
            words = split_words(normalised)
            if len(words) >= options.shingle_words:
                signature = self._signature(gram_hashes(words.hashes, options.shingle_words))
        return DedupFeature(digest, signature)

    def observe(self, row: CuratedRow, feature: Any) -> StageVerdict:
        """Drop ``row`` when it copies a kept row, else keep and remember it."""
        feat = self._checked(row, feature)
        if feat.digest is not None and (kept := self._exact.get(feat.digest)) is not None:
            return self._drop(kept, 1.0, "exact_duplicate", "dedup.exact")
        keys = None
        if feat.signature is not None:
            keys = self._index.keys(feat.signature)
            match = self._index.best(keys, feat.signature)
            if match is not None and match[1] >= self._options.threshold:
                return self._drop(match[0], match[1], "near_duplicate", self._near_rule)
        self._add(row.document.id, feat, keys)
        return StageVerdict(self.name, RowAction.KEEP, details={"cluster": row.document.id})

    def remember(self, row: CuratedRow, feature: Any) -> None:
        """Index a row kept by an earlier run (resume), without a verdict."""
        feat = self._checked(row, feature)
        if feat.digest is None or feat.digest not in self._exact:
            keys = None if feat.signature is None else self._index.keys(feat.signature)
            self._add(row.document.id, feat, keys)

    def _signature(self, shingles: npt.NDArray[np.uint64]) -> npt.NDArray[np.uint32]:
        values = np.unique((shingles >> _U64(32)).astype(np.uint32))
        minhash = self._minhash(
            num_perm=self._options.num_perm,
            seed=MINHASH_SEED,
            hashfunc=int,  # the values are hashes already (datasketch premixes them)
            permutations=self._permutations,
            scheme=_SCHEME,
        )
        for start in range(0, len(values), _BATCH):
            minhash.update_batch(values[start : start + _BATCH].tolist())
        signature: npt.NDArray[np.uint32] = minhash.hashvalues
        return signature

    def _checked(self, row: CuratedRow, feature: Any) -> DedupFeature:
        """``feature``, or the row's own when the caller passed something else."""
        if isinstance(feature, DedupFeature):
            return feature
        return self.feature(row.document.content)

    def _add(self, doc_id: str, feat: DedupFeature, keys: list[int] | None) -> None:
        if feat.digest is not None:
            self._exact[feat.digest] = doc_id
        if feat.signature is not None and keys is not None:
            self._index.add(doc_id, keys, feat.signature)

    def _drop(self, kept: str, score: float, reason: str, rule: str) -> StageVerdict:
        return StageVerdict(
            self.name,
            RowAction.DROP,
            score=score,
            reason=reason,
            rule=rule,
            evidence=kept,
            details={"cluster": kept},
        )
