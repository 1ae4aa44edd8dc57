"""Parquet input and output; pyarrow is imported only here, only when used.

Output schema: for Parquet input, the input schema (every field nullable) plus
``decision`` and ``error`` as string columns holding JSON. For other inputs, the columns
are the fields seen in the first rows, their types inferred by Arrow. A bad row carries
only ``error`` (its fields may not fit the column types); ``error.raw`` keeps its text.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from bastion.batch.progress import ProgressSink
from bastion.batch.rows import SourceRow
from bastion.batch.sources import Source
from bastion.batch.writers import OUTPUT_COLUMNS, SCHEMA_SAMPLE_ROWS, dumps, ordered_columns
from bastion.core.errors import InputError

__all__ = ["ParquetRowWriter", "open_parquet", "require_pyarrow"]

_BATCH_ROWS = 1000


def require_pyarrow() -> tuple[Any, Any]:
    """``(pyarrow, pyarrow.parquet)``.

    Raises:
        InputError: pyarrow is not installed, with the command that installs it.
    """
    try:
        import pyarrow
        import pyarrow.parquet
    except ImportError:
        raise InputError("Parquet files need pyarrow: pip install 'bastion[parquet]'") from None
    return pyarrow, pyarrow.parquet


def open_parquet(path: Path, progress: ProgressSink, stack: ExitStack) -> Source:
    """Open a Parquet file, read in batches of rows.

    Raises:
        InputError: pyarrow is missing, or the file is missing or not Parquet.
    """
    pa, pq = require_pyarrow()
    if not path.is_file():
        raise InputError(f"{path}: file not found")
    try:
        file = pq.ParquetFile(path)
    except (OSError, pa.ArrowException) as exc:
        raise InputError(f"{path}: not a readable Parquet file: {exc}") from None
    stack.callback(file.close)
    size = path.stat().st_size
    progress.set_total(size)
    schema = file.schema_arrow
    return Source(
        rows=_rows(path, file, size, progress),
        columns=tuple(schema.names),
        arrow_schema=schema,
    )


def _rows(path: Path, file: Any, size: int, progress: ProgressSink) -> Iterator[SourceRow]:
    # Parquet is columnar: progress is the share of rows read, scaled to the file size.
    import pyarrow as pa

    total = max(file.metadata.num_rows, 1)
    done = reported = 0
    try:
        for batch in file.iter_batches(batch_size=_BATCH_ROWS):
            for data in batch.to_pylist():
                done += 1
                yield SourceRow(done, data, data)
            position = size * done // total
            progress.advance(position - reported)
            reported = position
    except (OSError, pa.ArrowException) as exc:
        raise InputError(f"{path}: cannot read row {done + 1}: {exc}") from None


class ParquetRowWriter:
    """Writes rows in batches with ``pyarrow.parquet.ParquetWriter``."""

    def __init__(self, path: Path, input_schema: Any = None) -> None:
        self._pa, self._pq = require_pyarrow()
        self._path = path
        self._schema = None if input_schema is None else self._from_input(input_schema)
        self._pending: list[dict[str, Any]] = []
        self._first_line = 0
        self._writer: Any = None

    def write(self, row: dict[str, Any], line: int) -> None:
        """Buffer one row; full batches are written."""
        if not self._pending:
            self._first_line = line
        self._pending.append(self._cells(row, line))
        limit = _BATCH_ROWS if self._schema is not None else SCHEMA_SAMPLE_ROWS
        if len(self._pending) >= limit:
            self._flush()

    def finish(self) -> None:
        """Write what is buffered and the file footer (an empty input still gets a schema)."""
        self._flush()
        if self._writer is None:
            self._open(self._schema or self._infer([]))
        self._writer.close()
        self._writer = None

    def close(self) -> None:
        """Close without finishing (the runner discards the file)."""
        if self._writer is not None:
            self._writer.close()
            self._writer = None

    def _from_input(self, schema: Any) -> Any:
        pa = self._pa
        fields = [f.with_nullable(True) for f in schema if f.name not in OUTPUT_COLUMNS]
        return pa.schema([*fields, *(pa.field(name, pa.string()) for name in OUTPUT_COLUMNS)])

    def _cells(self, row: dict[str, Any], line: int) -> dict[str, Any]:
        if "error" in row:
            return {"error": _safe_text(dumps(row["error"]))}
        if self._schema is not None:
            extra = [key for key in row if key not in self._schema.names]
            if extra:
                raise InputError(
                    f"line {line}: field {extra[0]!r} is not in the Parquet columns "
                    f"{self._schema.names}; write JSON Lines for rows with varying fields"
                )
        cells = {key: _safe_text(v) if isinstance(v, str) else v for key, v in row.items()}
        cells["decision"] = _safe_text(dumps(row.get("decision")))
        return cells

    def _flush(self) -> None:
        if not self._pending:
            return
        rows, self._pending = self._pending, []
        schema = self._schema or self._infer(rows)
        try:
            table = self._pa.Table.from_pylist(rows, schema=schema)
        except (self._pa.ArrowException, ValueError, TypeError) as exc:
            raise InputError(
                f"rows from line {self._first_line}: do not fit the Parquet columns "
                f"{schema.names}: {exc}; write JSON Lines for rows with varying types"
            ) from None
        if self._writer is None:
            self._open(schema)
        self._writer.write_table(table)

    def _infer(self, rows: list[dict[str, Any]]) -> Any:
        pa = self._pa
        names = ordered_columns([key for row in rows for key in row])
        fields = []
        for name in names:
            kind = pa.string() if name in OUTPUT_COLUMNS else _infer_type(pa, rows, name)
            fields.append(pa.field(name, kind))
        self._schema = pa.schema(fields)
        return self._schema

    def _open(self, schema: Any) -> None:
        self._writer = self._pq.ParquetWriter(str(self._path), schema)


def _infer_type(pa: Any, rows: list[dict[str, Any]], name: str) -> Any:
    try:
        kind = pa.array([row.get(name) for row in rows]).type
    except (pa.ArrowException, ValueError, TypeError) as exc:
        raise InputError(f"field {name!r} has mixed types in the first rows: {exc}") from None
    # A column that is empty in the first rows would be typed null and reject later text.
    return pa.string() if pa.types.is_null(kind) else kind


def _safe_text(text: str) -> str:
    # Arrow strings must be valid UTF-8; inside JSON text a lone surrogate written as
    # \udXXX is exactly its JSON escape, so this keeps the JSON faithful.
    return text.encode("utf-8", "backslashreplace").decode("utf-8")
