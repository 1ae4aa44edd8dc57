"""The decontamination stage: rows that contain text of an evaluation set.

A model trained on its own test questions scores what it memorised. GPT-3 (Brown et al.
2020, App. C) removed training documents sharing a 13-word n-gram with a benchmark, after
lowercasing and removing punctuation; this stage does the same. The evaluation sets are
read once, at build time, from ``paths`` (files or glob patterns, relative ones under the
run's base folder): JSON Lines (``.jsonl``, ``.ndjson``: every string under one of
``fields`` is an item), a JSON list (``.json``: of such objects, or of strings) or plain
text (``.txt``: one item per line), each optionally gzipped (``.gz``).

Text is normalised as the dedup stage does it (:func:`~bastion.curate.stages.dedup.
normalise` and :func:`~bastion.curate.stages.dedup.split_words`: lowercase, whitespace
collapsed, ASCII punctuation separating words) and every ``ngram``-gram of each item goes,
as a 64-bit hash, into one sorted array (8 bytes an n-gram; ``searchsorted`` tests a whole
row at once). An item shorter than ``ngram`` words is one n-gram of its own length, found
in a row that holds the same words in a row; items under ``min_words`` words are skipped,
because a two-word answer ("Paris", "42") is in countless innocent documents (GPT-3 used
the same bound: n-grams of at least 8 words).

A row holding at least ``min_overlap`` such n-grams is dropped (or flagged): the score is
the count, the evidence names the eval file and the first matching n-gram.
:meth:`DecontaminationStage.fingerprint` gives each eval file's SHA-256, so a report can
say which evaluation sets a corpus was checked against.
"""

from __future__ import annotations

import glob
import gzip
import hashlib
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
from pydantic import Field, field_validator

from bastion.core.errors import ConfigError
from bastion.curate.document import Document
from bastion.curate.stages.base import RowOutcome, StageDeps, StageOptions, stage_plugin
from bastion.curate.stages.dedup import Words, gram_hashes, normalise, split_words
from bastion.curate.verdict import RowAction, StageVerdict

__all__ = ["DecontaminationOptions", "DecontaminationStage"]

_LINES = (".jsonl", ".ndjson")
_SUFFIXES = (*_LINES, ".json", ".txt")
_EVIDENCE_CHARS = 200
_MAX_FILTER_BITS = 26  # the prefilter is at most 64 MB
_U64 = np.uint64
_FIELDS = ("text", "prompt", "question", "response", "answer")


class DecontaminationOptions(StageOptions):
    """Options of the decontamination stage.

    Attributes:
        paths: evaluation sets: files or glob patterns (``evals/*.jsonl``), relative ones
            read from the run's base folder. Required.
        fields: the keys of a JSON row whose strings are eval items.
        ngram: words per n-gram (13, as GPT-3).
        min_words: eval items with fewer words are skipped (too common to mean anything).
        min_overlap: a row holding at least this many eval n-grams is contaminated.
        action: ``drop`` the row, or ``flag`` it.
    """

    paths: tuple[str, ...] = ()
    fields: tuple[str, ...] = _FIELDS
    ngram: int = Field(default=13, ge=1, le=64)
    min_words: int = Field(default=8, ge=1)
    min_overlap: int = Field(default=1, ge=1)
    action: Literal["drop", "flag"] = "drop"

    @field_validator("paths", "fields", mode="before")
    @classmethod
    def _one(cls, value: object) -> object:
        return (value,) if isinstance(value, str) else value


@dataclass(frozen=True, slots=True)
class _Grams:
    """The sorted hashes of the eval n-grams of one length, and each one's file.

    ``seen`` is a prefilter indexed by a hash's low bits (8 slots an n-gram): most row
    n-grams miss it, so few need the binary search (random reads of a big array).
    """

    length: int
    hashes: npt.NDArray[np.uint64]
    files: npt.NDArray[np.int32]
    seen: npt.NDArray[np.bool_]

    def find(
        self, row: npt.NDArray[np.uint64]
    ) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.intp]]:
        """Positions in ``row`` of eval n-grams, and where each is in :attr:`hashes`."""
        maybe = np.flatnonzero(self.seen[row & _U64(len(self.seen) - 1)])
        at = np.minimum(np.searchsorted(self.hashes, row[maybe]), len(self.hashes) - 1)
        hit = self.hashes[at] == row[maybe]
        return maybe[hit], at[hit]


@dataclass(frozen=True, slots=True)
class _Match:
    count: int
    file: str
    text: str


@stage_plugin(
    "decontamination",
    kind="row",
    summary="rows sharing a 13-word n-gram with an evaluation set (GPT-3's test); needs paths",
    options=DecontaminationOptions,
)
class DecontaminationStage:
    """Drops (or flags) rows that contain text of the configured evaluation sets.

    Raises:
        ConfigError: no ``paths``; a path or pattern that names no file; a file that
            cannot be read, is not UTF-8, has a bad JSON line, an unknown suffix, or no
            item of at least ``min_words`` words.
    """

    def __init__(self, options: DecontaminationOptions, deps: StageDeps) -> None:
        self.name = "decontamination"
        self._options = options
        if not options.paths:
            raise ConfigError(
                "the decontamination stage needs evaluation sets: give "
                "options: {paths: [evals/*.jsonl]} (files or glob patterns)"
            )
        files = _resolve(options.paths, deps.base_dir)
        self._names = [_display(path, deps.base_dir) for path in files]
        self._fingerprint: dict[str, str] = {}
        per_length: dict[int, tuple[list[npt.NDArray[np.uint64]], list[int]]] = {}
        for index, (path, name) in enumerate(zip(files, self._names, strict=True)):
            stored, data = _read(path)
            self._fingerprint[name] = hashlib.sha256(stored).hexdigest()
            found = 0
            for item in _items(path, data, options.fields):
                found += self._add(split_words(normalise(item)), index, per_length)
            if not found:
                raise ConfigError(
                    f"decontamination: {path}: no eval item of at least {options.min_words} "
                    f"words under fields {list(options.fields)}"
                )
        self._grams = [_sorted(length, *per_length[length]) for length in sorted(per_length)]
        self._rule = f"decontamination.overlap>={options.min_overlap}x{options.ngram}-gram"
        self._action = RowAction(options.action)

    def fingerprint(self) -> dict[str, str]:
        """Each evaluation file the stage read (as named in verdicts) -> the SHA-256 of
        its bytes as stored (``sha256sum`` gives the same)."""
        return dict(self._fingerprint)

    def run(self, docs: Sequence[Document]) -> list[RowOutcome]:
        """One verdict per row: keep, or ``eval_overlap`` with the count as score."""
        return [RowOutcome(self._judge(doc.content)) for doc in docs]

    def _add(
        self,
        words: Words,
        file: int,
        per_length: dict[int, tuple[list[npt.NDArray[np.uint64]], list[int]]],
    ) -> int:
        """Index one item's n-grams (or the whole short item); 1 when it counted."""
        if len(words) < self._options.min_words:
            return 0
        length = min(len(words), self._options.ngram)
        hashes = gram_hashes(words.hashes, length)
        arrays, files = per_length.setdefault(length, ([], []))
        arrays.append(hashes)
        files.extend([file] * len(hashes))
        return 1

    def _judge(self, text: str) -> StageVerdict:
        match = self._match(split_words(normalise(text)))
        if match is None:
            return StageVerdict(self.name, RowAction.KEEP, score=0.0)
        if match.count < self._options.min_overlap:
            return StageVerdict(self.name, RowAction.KEEP, score=float(match.count))
        return StageVerdict(
            self.name,
            self._action,
            score=float(match.count),
            reason="eval_overlap",
            rule=self._rule,
            evidence=f"{match.file}: {match.text}"[:_EVIDENCE_CHARS],
            details={"file": match.file, "ngrams": match.count},
        )

    def _match(self, words: Words) -> _Match | None:
        """The number of eval n-grams in ``words`` and the first one found, or None."""
        count, first = 0, None
        for grams in self._grams:
            hits, at = grams.find(gram_hashes(words.hashes, grams.length))
            if not len(hits):
                continue
            count += len(hits)
            if first is None:
                name = self._names[int(grams.files[at[0]])]
                first = (name, words.text(int(hits[0]), grams.length))
        return None if first is None else _Match(count, *first)


def _resolve(patterns: Sequence[str], base: Path) -> list[Path]:
    files: list[Path] = []
    for pattern in patterns:
        full = Path(pattern).expanduser()
        full = full if full.is_absolute() else base / full
        if glob.has_magic(str(full)):
            matched = sorted(Path(p) for p in glob.glob(str(full), recursive=True))
            matched = [p for p in matched if p.is_file()]
            if not matched:
                raise ConfigError(f"decontamination.paths: {pattern!r} matches no file in {base}")
            files.extend(matched)
        elif full.is_file():
            files.append(full)
        elif full.is_dir():
            raise ConfigError(f"decontamination.paths: {full} is a folder; give files or a glob")
        else:
            raise ConfigError(f"decontamination.paths: no such file {full}")
    return list(dict.fromkeys(files))


def _display(path: Path, base: Path) -> str:
    try:
        return path.resolve().relative_to(base.resolve()).as_posix()
    except ValueError:
        return str(path)


def _suffix(path: Path) -> str:
    name = path.name.lower().removesuffix(".gz")
    return next((s for s in _SUFFIXES if name.endswith(s)), "")


def _read(path: Path) -> tuple[bytes, bytes]:
    """The file's bytes as stored (what the fingerprint certifies) and its content."""
    if not _suffix(path):
        raise ConfigError(
            f"decontamination: {path}: reads {', '.join(_SUFFIXES)} (optionally .gz) files"
        )
    try:
        stored = path.read_bytes()
        return stored, gzip.decompress(stored) if path.name.lower().endswith(".gz") else stored
    except (OSError, EOFError) as exc:
        raise ConfigError(f"decontamination: cannot read {path}: {exc}") from None


def _items(path: Path, data: bytes, fields: Sequence[str]) -> Iterator[str]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"decontamination: {path} is not UTF-8 ({exc.reason})") from None
    suffix = _suffix(path)
    if suffix == ".txt":
        yield from (line for line in text.splitlines() if line.strip())
        return
    if suffix == ".json":
        rows = _json(path, text, "the file")
        if not isinstance(rows, list):
            raise ConfigError(f"decontamination: {path}: a .json eval set must be a list")
        for row in rows:
            yield from _strings(row, fields)
        return
    for number, line in enumerate(text.split("\n"), start=1):
        if line.strip():
            row = _json(path, line, f"line {number}")
            if not isinstance(row, dict):
                raise ConfigError(f"decontamination: {path}: line {number} is not an object")
            yield from _strings(row, fields)


def _json(path: Path, text: str, where: str) -> Any:
    try:
        return json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise ConfigError(f"decontamination: {path}: {where} is not valid JSON ({exc})") from None


def _strings(row: Any, fields: Sequence[str]) -> Iterator[str]:
    if isinstance(row, str):
        yield row
    elif isinstance(row, dict):
        yield from (row[key] for key in fields if isinstance(row.get(key), str))


def _sorted(length: int, arrays: list[npt.NDArray[np.uint64]], files: list[int]) -> _Grams:
    hashes = np.concatenate(arrays)
    order = np.argsort(hashes, kind="stable")
    seen = np.zeros(1 << min(max(16, (8 * len(hashes)).bit_length()), _MAX_FILTER_BITS), bool)
    seen[hashes & _U64(len(seen) - 1)] = True
    return _Grams(length, hashes[order], np.array(files, dtype=np.int32)[order], seen)
