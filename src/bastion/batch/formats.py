"""Batch file formats, chosen by file extension."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

from bastion.core.errors import InputError

__all__ = ["BatchFormat", "detect_format"]


class BatchFormat(StrEnum):
    """A batch file format."""

    JSONL = "jsonl"
    JSONL_GZ = "jsonl.gz"
    CSV = "csv"
    PARQUET = "parquet"


_SUFFIXES = {
    ".jsonl": BatchFormat.JSONL,
    ".json": BatchFormat.JSONL,  # JSON Lines under a .json name; a JSON array is not read
    ".ndjson": BatchFormat.JSONL,
    ".jsonl.gz": BatchFormat.JSONL_GZ,
    ".json.gz": BatchFormat.JSONL_GZ,
    ".ndjson.gz": BatchFormat.JSONL_GZ,
    ".csv": BatchFormat.CSV,
    ".parquet": BatchFormat.PARQUET,
    ".pq": BatchFormat.PARQUET,
}


def detect_format(path: Path) -> BatchFormat:
    """The format named by ``path``'s extension (case-insensitive).

    Raises:
        InputError: the extension is not one of ``.jsonl``, ``.json``, ``.ndjson``, their
            ``.gz`` forms, ``.csv``, ``.parquet`` or ``.pq``.
    """
    name = path.name.lower()
    for suffix, fmt in sorted(_SUFFIXES.items(), key=lambda item: -len(item[0])):
        if name.endswith(suffix):
            return fmt
    known = ", ".join(sorted(_SUFFIXES))
    raise InputError(f"{path}: unknown batch file type; use one of {known}")
