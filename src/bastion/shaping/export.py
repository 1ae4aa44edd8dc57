"""Write preference pairs as TRL-ready JSON Lines: DPO pairs or SFT conversations.

Both exporters read any number of :class:`~bastion.shaping.pairs.PairSource` in order and
write one row per usable pair (formats in :mod:`bastion.shaping.pairs`). Output is
deterministic (sources in the order given, each in its own order; identical rows written
once, counted as ``duplicate``) and atomic (a temporary file beside ``dest``, renamed only
when every source was read), so a failed export never leaves half a dataset behind.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from bastion.batch.atomic import atomic_output
from bastion.core.errors import InputError
from bastion.shaping.pairs import PairSource, PreferencePair, Skipped

__all__ = ["ExportFormat", "ExportSummary", "export_pairs"]


class ExportFormat(StrEnum):
    """What a row holds: a DPO preference pair or an SFT conversation."""

    DPO = "dpo"
    SFT = "sft"


@dataclass(frozen=True, slots=True)
class ExportSummary:
    """What an export wrote.

    Attributes:
        dest: the file written.
        format: ``dpo`` or ``sft``.
        written: rows written.
        skipped: items not written, per reason (``no_rejected``, ``duplicate``, and each
            source's own reasons such as ``multi_turn`` or ``below_margin``).
    """

    dest: Path
    format: ExportFormat
    written: int
    skipped: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {
            "dest": str(self.dest),
            "format": self.format.value,
            "written": self.written,
            "skipped": dict(sorted(self.skipped.items())),
        }


def _row(fmt: ExportFormat, pair: PreferencePair, provenance: bool) -> dict[str, Any] | None:
    if fmt is ExportFormat.DPO and pair.rejected is None:
        return None
    row = pair.dpo_row() if fmt is ExportFormat.DPO else pair.sft_row()
    if provenance:
        row["source"] = pair.source
        if pair.margin is not None:
            row["margin"] = pair.margin
    return row


def _line(row: dict[str, Any]) -> bytes:
    # Lone surrogates cannot be UTF-8: written as \udXXX JSON escapes, as records do.
    text = json.dumps(row, ensure_ascii=False, separators=(",", ":"))
    return text.encode("utf-8", "backslashreplace") + b"\n"


def export_pairs(
    sources: Sequence[PairSource],
    dest: Path,
    fmt: ExportFormat,
    *,
    provenance: bool = False,
    on_item: Callable[[PreferencePair | Skipped], None] | None = None,
) -> ExportSummary:
    """Write every usable pair of ``sources`` to ``dest`` as ``fmt`` rows.

    Args:
        sources: where the pairs come from, read in order.
        dest: the JSONL file to write (replaced atomically).
        fmt: ``dpo`` (pairs with a rejected response) or ``sft`` (prompt plus chosen).
        provenance: add ``source`` (and ``margin`` when ranked) to each row. TRL ignores
            extra columns, but leave this off for the leanest files.
        on_item: called with each pair or skip (progress reporting).

    Raises:
        InputError: the output folder is missing or not writable, or a source's input
            is unusable (subclasses such as ``BatchInputError`` and ``RecordError``
            name the file and line).
    """
    skipped: Counter[str] = Counter()
    seen: set[bytes] = set()
    try:
        with atomic_output(dest) as tmp, tmp.open("wb") as stream:
            for source in sources:
                for item in source.pairs():
                    if on_item is not None:
                        on_item(item)
                    reason = _write(stream, item, fmt, provenance, seen)
                    if reason is not None:
                        skipped[reason] += 1
    except OSError as exc:
        raise InputError(f"{exc.filename or dest}: {exc.strerror or exc}") from None
    return ExportSummary(dest, fmt, len(seen), dict(skipped))


def _write(
    stream: Any,
    item: PreferencePair | Skipped,
    fmt: ExportFormat,
    provenance: bool,
    seen: set[bytes],
) -> str | None:
    """Write one item; returns the skip reason when it was not written."""
    if isinstance(item, Skipped):
        return item.reason
    row = _row(fmt, item, provenance)
    if row is None:
        return "no_rejected"
    line = _line(row)
    # Duplicates are judged on the training content alone, and kept as 32-byte digests
    # so memory does not grow with the size of the rows.
    key = hashlib.sha256(line if not provenance else _line(_row(fmt, item, False) or {}))
    if key.digest() in seen:
        return "duplicate"
    seen.add(key.digest())
    stream.write(line)
    return None
