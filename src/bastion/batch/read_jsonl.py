"""Stream JSON Lines (optionally gzip-compressed), one binary line at a time."""

from __future__ import annotations

import codecs
import gzip
import json
import zlib
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import BinaryIO, cast

from bastion.batch.progress import ProgressSink
from bastion.batch.rows import SourceRow
from bastion.batch.sources import MAX_LINE_BYTES, Source, bounded_lines, open_binary
from bastion.core.errors import InputError

__all__ = ["open_jsonl"]


def open_jsonl(path: Path, progress: ProgressSink, stack: ExitStack, *, gz: bool = False) -> Source:
    """Open a JSON Lines file; each non-blank line is one row."""
    raw = open_binary(path, progress, stack)
    stream: BinaryIO = raw
    if gz:
        stream = cast("BinaryIO", stack.enter_context(gzip.GzipFile(fileobj=raw, mode="rb")))
    return Source(rows=_rows(path, stream, raw, progress))


def _rows(
    path: Path, stream: BinaryIO, raw: BinaryIO, progress: ProgressSink
) -> Iterator[SourceRow]:
    # Progress follows the file on disk (for .gz, compressed bytes), so it ends at 100 %.
    reported = 0
    try:
        for number, (line, too_long) in enumerate(bounded_lines(stream), start=1):
            position = raw.tell()
            progress.advance(position - reported)
            reported = position
            row = _row(number, line, too_long)
            if row is not None:
                yield row
    except (OSError, EOFError, zlib.error) as exc:
        raise InputError(f"{path}: cannot read: {exc}") from None


def _row(number: int, line: bytes, too_long: bool) -> SourceRow | None:
    if too_long:
        return SourceRow(number, None, line, f"line longer than {MAX_LINE_BYTES:,} bytes")
    if number == 1:
        line = line.removeprefix(codecs.BOM_UTF8)
    if not line.strip():
        return None
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError as exc:
        return SourceRow(number, None, line, f"invalid UTF-8 at byte {exc.start}")
    try:
        data = json.loads(text)
    except RecursionError:
        return SourceRow(number, None, line, "not valid JSON: nested too deeply")
    except ValueError as exc:
        return SourceRow(number, None, line, f"not valid JSON: {exc}{_array_hint(number, text)}")
    if not isinstance(data, dict):
        message = f"a row must be a JSON object, got {_kind(data)}{_array_hint(number, text)}"
        return SourceRow(number, None, line, message)
    return SourceRow(number, data, line)


def _array_hint(number: int, text: str) -> str:
    # A .json file holding one JSON array is the commonest mistake; say what is expected.
    if number == 1 and text.lstrip().startswith("["):
        return " (batch files are JSON Lines: one object per line, not a JSON array)"
    return ""


def _kind(value: object) -> str:
    return {list: "an array", str: "a string", type(None): "null"}.get(type(value), "a scalar")
