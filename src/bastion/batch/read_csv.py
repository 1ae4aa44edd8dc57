"""Stream CSV with a header row; a ``messages`` cell holds the message list as JSON."""

from __future__ import annotations

import codecs
import csv
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from bastion.batch.progress import ProgressSink
from bastion.batch.rows import SourceRow
from bastion.batch.sources import MAX_LINE_BYTES, Source, bounded_lines, open_binary
from bastion.core.errors import InputError

__all__ = ["open_csv"]

# Empty cells in these columns mean "absent" (CSV cannot tell empty from missing).
_OPTIONAL = ("messages", "response", "context")


@dataclass(frozen=True, slots=True)
class _Line:
    number: int
    text: str
    error: str | None


class _Lines:
    """Physical lines of a binary stream, decoded one by one, for ``csv.reader``.

    Decoding per line lets invalid UTF-8 spoil only the record it is in, and lets
    progress count bytes. The lines of the record being parsed are kept until ``take``.
    """

    def __init__(self, stream: BinaryIO, progress: ProgressSink) -> None:
        self._stream = stream
        self._progress = progress
        self._pending: list[_Line] = []

    def __iter__(self) -> Iterator[str]:
        reported = 0
        for number, (data, too_long) in enumerate(bounded_lines(self._stream), start=1):
            position = self._stream.tell()
            self._progress.advance(position - reported)
            reported = position
            line = _decode(number, data.removeprefix(codecs.BOM_UTF8) if number == 1 else data)
            if too_long:
                line = _Line(
                    number, line.text, f"line {number} longer than {MAX_LINE_BYTES:,} bytes"
                )
            self._pending.append(line)
            yield line.text

    def take(self) -> list[_Line]:
        """The lines read since the last call (the current record, maybe blank lines)."""
        taken, self._pending = self._pending, []
        return taken


def _decode(number: int, data: bytes) -> _Line:
    try:
        return _Line(number, data.decode("utf-8"), None)
    except UnicodeDecodeError as exc:
        text = data.decode("utf-8", "replace")
        return _Line(number, text, f"invalid UTF-8 on line {number} at byte {exc.start}")


def open_csv(path: Path, progress: ProgressSink, stack: ExitStack) -> Source:
    """Open a CSV file; its first line names the columns.

    Raises:
        InputError: the header cannot be read.
    """
    # The default 128 KiB field limit would make a long prompt a parse error. The limit
    # is process-wide in the csv module; raising it is harmless to other readers.
    csv.field_size_limit(max(csv.field_size_limit(), MAX_LINE_BYTES))
    lines = _Lines(open_binary(path, progress, stack), progress)
    reader = csv.DictReader(lines)
    try:
        header = reader.fieldnames
    except csv.Error as exc:
        raise InputError(f"{path}:1: cannot read the CSV header: {exc}") from None
    bad_header = next((line.error for line in lines.take() if line.error), None)
    if bad_header:
        raise InputError(f"{path}: header has {bad_header}")
    return Source(rows=_rows(reader, lines), columns=tuple(header or ()))


def _rows(reader: csv.DictReader[str], lines: _Lines) -> Iterator[SourceRow]:
    while True:
        try:
            data: dict[Any, Any] | None = next(reader)
            error = None
        except StopIteration:
            return
        except csv.Error as exc:
            data, error = None, f"not valid CSV: {exc}"
        yield _row(data, error, lines.take())


def _row(data: dict[Any, Any] | None, error: str | None, taken: list[_Line]) -> SourceRow:
    record = [line for line in taken if line.text.strip()] or taken
    number = record[0].number if record else 0
    raw = "".join(line.text for line in record)
    error = error or next((line.error for line in record if line.error), None)
    if data is not None and None in data:
        error = error or f"row has {len(data[None])} more fields than the header"
    if error is not None:
        return SourceRow(number, None, raw, error)
    return SourceRow(number, _absent_if_empty(data or {}), raw)


def _absent_if_empty(data: dict[str, Any]) -> dict[str, Any]:
    for key in _OPTIONAL:
        if data.get(key) == "":
            data[key] = None
    if data.get("text") == "" and data.get("messages") is not None:
        data["text"] = None
    return data
