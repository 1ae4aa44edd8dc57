"""Batch output writers: JSON Lines and CSV here, Parquet in :mod:`bastion.batch.parquet`.

Every output row is the input row plus ``decision`` (or ``error`` for a bad row).
Writers write to the temporary path the runner gives them; ``finish`` completes the file
and ``close`` releases it (without finishing, after a failure).
"""

from __future__ import annotations

import csv
import gzip
import json
from collections.abc import Sequence
from datetime import date, datetime
from pathlib import Path
from typing import IO, Any, Protocol, cast

from bastion.batch.formats import BatchFormat
from bastion.batch.sources import Source
from bastion.core.errors import InputError

__all__ = [
    "OUTPUT_COLUMNS",
    "SCHEMA_SAMPLE_ROWS",
    "CsvRowWriter",
    "JsonlRowWriter",
    "RowWriter",
    "dumps",
    "open_writer",
    "ordered_columns",
]

OUTPUT_COLUMNS = ("decision", "error")
# Fixed-column outputs (CSV, Parquet) from JSON Lines take their columns from this many
# first rows: enough to see every field of a regular file without holding much in memory.
SCHEMA_SAMPLE_ROWS = 1000


class RowWriter(Protocol):
    """Writes output rows to one file."""

    def write(self, row: dict[str, Any], line: int) -> None:
        """Write one output row; ``line`` is the input line, for error messages."""
        ...

    def finish(self) -> None:
        """Complete the file (flush buffers, write footers)."""
        ...

    def close(self) -> None:
        """Release the file; after a failure, without completing it."""
        ...


def open_writer(path: Path, fmt: BatchFormat, source: Source) -> RowWriter:
    """A writer for ``fmt`` at ``path``; fixed-column formats follow ``source``'s columns."""
    if fmt is BatchFormat.CSV:
        return CsvRowWriter(path, source.columns)
    if fmt is BatchFormat.PARQUET:
        from bastion.batch.parquet import ParquetRowWriter  # pyarrow only when needed

        return ParquetRowWriter(path, source.arrow_schema)
    return JsonlRowWriter(path, gz=fmt is BatchFormat.JSONL_GZ)


def dumps(value: object) -> str:
    """Compact JSON that never fails on dates, bytes or lone surrogates.

    Raises:
        ValueError, TypeError or RecursionError: the value cannot be JSON at all.
    """
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=_default)


def _default(value: object) -> object:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value)


def ordered_columns(keys: Sequence[str]) -> tuple[str, ...]:
    """``keys`` (first-seen order, no duplicates) with ``decision`` and ``error`` last."""
    seen = dict.fromkeys(k for k in keys if k not in OUTPUT_COLUMNS)
    return (*seen, *OUTPUT_COLUMNS)


class JsonlRowWriter:
    """One JSON object per line (UTF-8; lone surrogates written as ``\\udXXX`` escapes)."""

    def __init__(self, path: Path, *, gz: bool = False) -> None:
        # The writer owns the file until close(); a with-block cannot span the calls.
        opened = gzip.open(path, "wb") if gz else path.open("wb")  # noqa: SIM115
        self._file = cast("IO[bytes]", opened)

    def write(self, row: dict[str, Any], line: int) -> None:
        """Write one row."""
        self._file.write(dumps(row).encode("utf-8", "backslashreplace") + b"\n")

    def finish(self) -> None:
        """Flush."""
        self._file.flush()

    def close(self) -> None:
        """Close the file."""
        self._file.close()


class CsvRowWriter:
    """CSV with a header; ``decision``/``error`` and other non-text cells hold JSON.

    Columns are the input's (CSV input) or the fields of the first rows (JSON Lines
    input). A bad row keeps the cells that fit those columns; its ``error`` has the raw
    text. A decided row with a field outside the columns fails the run, because a CSV
    file cannot grow columns halfway.
    """

    def __init__(self, path: Path, columns: Sequence[str] | None) -> None:
        self._file = path.open("w", encoding="utf-8", errors="backslashreplace", newline="")
        self._columns = ordered_columns(columns) if columns is not None else None
        self._sample: list[tuple[dict[str, Any], int]] = []
        self._writer: csv.DictWriter[str] | None = None

    def write(self, row: dict[str, Any], line: int) -> None:
        """Write one row (the first rows are held until the columns are known)."""
        if self._writer is None and self._columns is None:
            self._sample.append((row, line))
            if len(self._sample) >= SCHEMA_SAMPLE_ROWS:
                self._start()
            return
        self._emit(row, line)

    def finish(self) -> None:
        """Write any held rows and flush."""
        if self._writer is None:
            self._start()
        self._file.flush()

    def close(self) -> None:
        """Close the file."""
        self._file.close()

    def _start(self) -> None:
        if self._columns is None:
            self._columns = ordered_columns([key for row, _ in self._sample for key in row])
        self._writer = csv.DictWriter(self._file, fieldnames=self._columns)
        if self._columns != OUTPUT_COLUMNS or self._sample:
            self._writer.writeheader()
        sample, self._sample = self._sample, []
        for row, line in sample:
            self._emit(row, line)

    def _emit(self, row: dict[str, Any], line: int) -> None:
        if self._writer is None:
            self._start()
        columns = self._columns or ()
        if "error" in row:
            row = {key: value for key, value in row.items() if key in columns}
        else:
            extra = [key for key in row if key not in columns]
            if extra:
                raise InputError(
                    f"line {line}: field {extra[0]!r} is not among the CSV columns "
                    f"{list(columns)}; write JSON Lines for rows with varying fields"
                )
        cells = {
            key: value if isinstance(value, str) else _cell(value) for key, value in row.items()
        }
        self._writer.writerow(cells)  # type: ignore[union-attr]  # set by _start


def _cell(value: object) -> str:
    return "" if value is None else dumps(value)
