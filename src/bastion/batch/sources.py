"""Open a batch input file as a stream of rows, whatever its format."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from bastion.batch.formats import BatchFormat
from bastion.batch.progress import ProgressSink
from bastion.batch.rows import SourceRow
from bastion.core.errors import InputError

__all__ = ["MAX_LINE_BYTES", "Source", "bounded_lines", "open_binary", "open_source"]

# A line longer than this is a bad row rather than a reason to buffer gigabytes: input
# without newlines must not defeat constant-memory streaming.
MAX_LINE_BYTES = 64 * 1024 * 1024
_DRAIN_CHUNK = 1024 * 1024


@dataclass(frozen=True, slots=True)
class Source:
    """An open batch input.

    Attributes:
        rows: the rows, read lazily, in file order.
        columns: the input's column names when the format declares them (CSV header,
            Parquet schema); None for JSON Lines.
        arrow_schema: the Parquet schema (a ``pyarrow.Schema``) for Parquet input.
    """

    rows: Iterator[SourceRow]
    columns: tuple[str, ...] | None = None
    arrow_schema: Any = None


def open_source(path: Path, fmt: BatchFormat, progress: ProgressSink, stack: ExitStack) -> Source:
    """Open ``path`` as ``fmt``; files are closed by ``stack``.

    Raises:
        InputError: the file is missing or unreadable (Parquet: or pyarrow is missing).
    """
    # Imported here so a run loads only the reader it needs (pyarrow above all).
    if fmt is BatchFormat.CSV:
        from bastion.batch.read_csv import open_csv

        return open_csv(path, progress, stack)
    if fmt is BatchFormat.PARQUET:
        from bastion.batch.parquet import open_parquet

        return open_parquet(path, progress, stack)
    from bastion.batch.read_jsonl import open_jsonl

    return open_jsonl(path, progress, stack, gz=fmt is BatchFormat.JSONL_GZ)


def open_binary(path: Path, progress: ProgressSink, stack: ExitStack) -> BinaryIO:
    """Open ``path`` for binary reading and tell ``progress`` its size."""
    try:
        stream = stack.enter_context(path.open("rb"))
        size = path.stat().st_size
    except FileNotFoundError:
        raise InputError(f"{path}: file not found") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot read: {exc.strerror or exc}") from None
    progress.set_total(size)
    return stream


def bounded_lines(stream: BinaryIO, limit: int = MAX_LINE_BYTES) -> Iterator[tuple[bytes, bool]]:
    """Lines with their newline; a line over ``limit`` bytes yields its start and ``True``.

    The rest of an over-long line is read in chunks and dropped, so memory stays bounded
    by ``limit`` whatever the input.
    """
    while True:
        line = stream.readline(limit + 1)
        if not line:
            return
        if len(line) <= limit or line.endswith(b"\n"):
            yield line, False
            continue
        rest = line
        while rest and not rest.endswith(b"\n"):
            rest = stream.readline(_DRAIN_CHUNK)
        yield line[:_DRAIN_CHUNK], True
