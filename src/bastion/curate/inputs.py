"""Corpus input: a file or a folder of shards, read as documents or per-row errors.

The readers are the batch readers of :mod:`bastion.batch` (JSON Lines, gzip'd JSON Lines,
CSV, Parquet), so a broken line, invalid UTF-8, a non-object row or an over-long line is
one error row, never the end of the run.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

from bastion.batch.formats import BatchFormat, detect_format, strip_format_suffix
from bastion.batch.progress import ProgressSink
from bastion.batch.sources import open_source
from bastion.core.errors import InputError
from bastion.curate.document import Document, parse_document

__all__ = ["BadRow", "Shard", "list_shards", "read_shard"]


@dataclass(frozen=True, slots=True)
class Shard:
    """One input file.

    Attributes:
        name: its path relative to the input folder (the file name for a single file).
        path: where it is.
        format: its batch format.
    """

    name: str
    path: Path
    format: BatchFormat

    @property
    def slug(self) -> str:
        """A file-name-safe form of :attr:`name`, without its extension, for per-shard
        outputs (``part-0001.parquet`` -> ``part-0001``)."""
        return strip_format_suffix(self.name).replace("/", "__")

    @property
    def output_name(self) -> str:
        """Where the shard's outputs go under ``kept/``, ``removed/`` and ``errors/``: its
        relative path, as JSON Lines (``prompts/harmful.parquet`` ->
        ``prompts/harmful.jsonl``), so a curated copy keeps the input's folder layout."""
        return f"{strip_format_suffix(self.name)}.jsonl"

    @property
    def size(self) -> int:
        """Size on disk in bytes (0 when it cannot be read)."""
        try:
            return self.path.stat().st_size
        except OSError:
            return 0


@dataclass(frozen=True, slots=True)
class BadRow:
    """A row that could not be read or has no usable shape."""

    shard: str
    line: int
    error: str
    excerpt: str


def list_shards(source: Path) -> list[Shard]:
    """The shards of ``source``: the file itself, or every readable file under the folder.

    Raises:
        InputError: the path does not exist, or a folder holds no corpus files.
    """
    if source.is_file():
        return [Shard(source.name, source, detect_format(source))]
    if not source.is_dir():
        raise InputError(f"{source}: no such file or folder")
    shards = []
    for path in sorted(p for p in source.rglob("*") if p.is_file()):
        try:
            fmt = detect_format(path)
        except InputError:
            continue  # README, _SUCCESS markers and the like sit beside shards
        shards.append(Shard(path.relative_to(source).as_posix(), path, fmt))
    if not shards:
        raise InputError(f"{source}: no .jsonl, .jsonl.gz, .csv or .parquet files in the folder")
    _check_unique(shards)
    return shards


def _check_unique(shards: list[Shard]) -> None:
    seen: dict[str, str] = {}
    for shard in shards:
        if shard.slug in seen:
            raise InputError(
                f"shards {seen[shard.slug]!r} and {shard.name!r} would write the same outputs"
                f" ({shard.slug!r}); rename one"
            )
        seen[shard.slug] = shard.name


def read_shard(shard: Shard, progress: ProgressSink) -> Iterator[Document | BadRow]:
    """The shard's rows in order: a :class:`Document` per good row, else a :class:`BadRow`.

    Raises:
        InputError: the file itself cannot be opened or read any further.
    """
    with ExitStack() as stack:
        source = open_source(shard.path, shard.format, progress, stack)
        for row in source.rows:
            if row.data is None:
                yield BadRow(shard.name, row.line, row.error or "unreadable row", row.excerpt())
                continue
            try:
                yield parse_document(row.data, shard=shard.name, line=row.line)
            except InputError as exc:
                yield BadRow(shard.name, row.line, str(exc), row.excerpt())
