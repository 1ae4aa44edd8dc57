"""Append records to a JSONL file and stream them back."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from types import TracebackType
from typing import Any, BinaryIO

from pydantic import ValidationError

from bastion.core.errors import RecordError
from bastion.records.model import RECORD_VERSION, Record, describe_validation

__all__ = ["RecordWriter", "latest_records", "read_records", "record_line"]


def record_line(record: Record) -> bytes:
    """One record as one JSON line (with its newline), UTF-8.

    Lone surrogates (from undecodable argv or ``\\udXXX`` escapes in input JSON) cannot
    be encoded as UTF-8; ``backslashreplace`` writes them as ``\\udXXX``, which inside a
    JSON string is exactly the escape that reads them back.
    """
    try:
        data = record.model_dump(mode="json")
        text = json.dumps(data, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise RecordError(f"record {record.id} is not JSON-serialisable: {exc}") from None
    return text.encode("utf-8", "backslashreplace") + b"\n"


class RecordWriter:
    """Appends records to a JSONL file; never truncates or rewrites what is there.

    Each record is one ``write`` on an unbuffered append-mode file, so it reaches the OS
    at once and concurrent appenders do not interleave within a line. ``fsync=True``
    also forces it to disk (slower; for logs that must survive a power cut).

    Use as a context manager::

        with RecordWriter("decisions.jsonl") as writer:
            writer.write(record)
    """

    def __init__(self, path: str | Path, *, fsync: bool = False) -> None:
        self.path = Path(path)
        self._fsync = fsync
        try:
            self._file: BinaryIO | None = open(self.path, "ab+", buffering=0)  # noqa: SIM115
        except OSError as exc:
            raise RecordError(f"{self.path}: cannot open for append: {exc}") from None
        self._seal_torn_tail(self._file)

    @staticmethod
    def _seal_torn_tail(file: BinaryIO) -> None:
        # A crash mid-write can leave a last line without its newline; start on a fresh
        # line so the torn one stays a single bad line instead of corrupting ours.
        end = file.seek(0, os.SEEK_END)
        if end > 0:
            file.seek(end - 1)
            if file.read(1) != b"\n":
                file.write(b"\n")

    def write(self, record: Record) -> None:
        """Append one record.

        Raises:
            RecordError: the writer is closed, or the record cannot be written.
        """
        if self._file is None:
            raise RecordError(f"{self.path}: writer is closed")
        line = memoryview(record_line(record))
        try:
            while line:
                written = self._file.write(line) or 0
                line = line[written:]
            if self._fsync:
                os.fsync(self._file.fileno())
        except OSError as exc:
            raise RecordError(f"{self.path}: cannot write record: {exc}") from None

    def write_all(self, records: Iterable[Record]) -> int:
        """Append every record; returns how many."""
        count = 0
        for record in records:
            self.write(record)
            count += 1
        return count

    def close(self) -> None:
        """Close the file; further writes raise."""
        if self._file is not None:
            self._file.close()
            self._file = None

    def __enter__(self) -> RecordWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def read_records(path: str | Path) -> Iterator[Record]:
    """Stream the records of a JSONL file, one line at a time; blank lines are skipped.

    Raises:
        RecordError: the file is missing (at once), or a line is not a valid record, or
            was written by a newer bastion (when that line is reached; names path:line).
    """
    file = Path(path)
    if not file.is_file():
        raise RecordError(f"{file}: file not found")
    return _iter_records(file)


def _iter_records(path: Path) -> Iterator[Record]:
    with path.open("rb") as stream:
        for number, raw in enumerate(stream, start=1):
            if raw.strip():
                yield _parse_line(raw, path, number)


def _parse_line(raw: bytes, path: Path, number: int) -> Record:
    where = f"{path}:{number}"
    try:
        data: Any = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise RecordError(f"{where}: not valid UTF-8") from None
    except (ValueError, RecursionError) as exc:  # RecursionError: absurdly nested JSON
        raise RecordError(f"{where}: not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise RecordError(f"{where}: a record must be a JSON object")
    found = data.get("version")
    if isinstance(found, int) and found > RECORD_VERSION:
        raise RecordError(
            f"{where}: record version {found} was written by a newer bastion "
            f"(this one reads up to {RECORD_VERSION}); upgrade bastion"
        )
    try:
        return Record.model_validate(data)
    except ValidationError as exc:
        raise RecordError(f"{where}: invalid record: {describe_validation(exc)}") from None


def latest_records(records: Iterable[Record]) -> list[Record]:
    """The records no other record supersedes, in file order.

    Human edits are new records pointing at what they replace, so the current view of
    a history is every record that nothing later replaced.
    """
    kept: list[Record] = []
    replaced: set[str] = set()
    for record in records:
        kept.append(record)
        if record.supersedes is not None:
            replaced.add(record.supersedes)
    return [record for record in kept if record.id not in replaced]
