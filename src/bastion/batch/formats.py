"""Batch file formats, chosen by file extension."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

from bastion.core.errors import InputError

__all__ = ["BatchFormat", "detect_format", "strip_format_suffix"]


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


def _longest_first() -> list[tuple[str, BatchFormat]]:
    return sorted(_SUFFIXES.items(), key=lambda item: -len(item[0]))


def strip_format_suffix(name: str) -> str:
    """``name`` without the batch-format extension it ends with (``part.jsonl.gz`` ->
    ``part``); unchanged when it ends with none."""
    lower = name.lower()
    for suffix, _fmt in _longest_first():
        if lower.endswith(suffix):
            return name[: -len(suffix)]
    return name


def detect_format(path: Path) -> BatchFormat:
    """The format named by ``path``'s extension (case-insensitive).

    Raises:
        InputError: the extension is not one of ``.jsonl``, ``.json``, ``.ndjson``, their
            ``.gz`` forms, ``.csv``, ``.parquet`` or ``.pq``.
    """
    name = path.name.lower()
    for suffix, fmt in _longest_first():
        if name.endswith(suffix):
            return fmt
    known = ", ".join(sorted(_SUFFIXES))
    raise InputError(f"{path}: unknown batch file type; use one of {known}")
