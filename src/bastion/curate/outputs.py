"""Per-shard outputs: kept rows, removed rows with their reasons, unreadable rows.

Each shard's three files are written under ``OUT/.partial/`` and moved into
``OUT/kept/``, ``OUT/removed/`` and ``OUT/errors/`` only when the shard is complete, and
``OUT/state/<shard>.json`` (the shard's summary) is written last: a shard with a state
file is complete, so a resumed run skips it; a shard without one is redone from its start.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from types import TracebackType
from typing import IO, Any

from bastion.batch.writers import dumps
from bastion.curate.inputs import BadRow, Shard
from bastion.curate.verdict import CuratedRow, RowAction

__all__ = ["ShardWriter", "kept_row", "removed_row", "state_path"]

_PARTS = ("kept", "removed", "errors")


def state_path(out: Path, shard: Shard) -> Path:
    """Where a completed shard's summary is written."""
    return out / "state" / f"{shard.slug}.json"


def kept_row(row: CuratedRow) -> dict[str, Any]:
    """A kept row: the input fields (redacted where personal data was found) plus
    ``curation`` (row id, duplicate cluster, language, flags, redactions)."""
    meta: dict[str, Any] = {"id": row.document.id}
    for verdict in row.verdicts:
        if "cluster" in verdict.details:
            meta["cluster"] = verdict.details["cluster"]
        if "language" in verdict.details:
            meta["language"] = verdict.details["language"]
        if verdict.action is RowAction.FLAG:
            meta.setdefault("flags", []).append(f"{verdict.stage}:{verdict.reason}")
        if verdict.action is RowAction.REDACT:
            meta["redacted"] = verdict.details
    return {**row.document.fields, "curation": meta}


def removed_row(row: CuratedRow) -> dict[str, Any]:
    """A removed row: where it was, what removed it (stage, score, rule, evidence), every
    verdict on it, and the row itself."""
    doc = row.document
    dropped = row.dropped_by
    return {
        "id": doc.id,
        "shard": doc.shard,
        "line": doc.line,
        "removed_by": dropped.to_dict() if dropped else None,
        "verdicts": [v.to_dict() for v in row.verdicts],
        "row": dict(doc.fields),
    }


class ShardWriter:
    """Writes one shard's outputs; :meth:`commit` publishes them."""

    def __init__(self, out: Path, shard: Shard) -> None:
        self._out = out
        self._shard = shard
        partial = out / ".partial"
        partial.mkdir(parents=True, exist_ok=True)
        self._paths = {part: partial / f"{shard.slug}.{part}.jsonl" for part in _PARTS}
        self._files: dict[str, IO[bytes]] = {
            part: path.open("wb") for part, path in self._paths.items()
        }

    def __enter__(self) -> ShardWriter:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def row(self, row: CuratedRow) -> None:
        """Write a curated row to kept or removed."""
        if row.kept:
            self._write("kept", kept_row(row))
        else:
            self._write("removed", removed_row(row))

    def bad(self, bad: BadRow) -> None:
        """Write an unreadable row."""
        self._write(
            "errors", {"shard": bad.shard, "line": bad.line, "error": bad.error, "raw": bad.excerpt}
        )

    def commit(self, summary: dict[str, Any]) -> None:
        """Publish the shard's files, then its state file (the shard is complete)."""
        self.close()
        for part, path in self._paths.items():
            dest = self._out / part / self._shard.output_name
            dest.parent.mkdir(parents=True, exist_ok=True)
            os.replace(path, dest)
        state = state_path(self._out, self._shard)
        state.parent.mkdir(parents=True, exist_ok=True)
        tmp = state.with_suffix(".tmp")
        tmp.write_text(json.dumps(summary, ensure_ascii=False), encoding="utf-8")
        os.replace(tmp, state)

    def close(self) -> None:
        """Close the files (idempotent)."""
        for handle in self._files.values():
            if not handle.closed:
                handle.close()

    def _write(self, part: str, data: dict[str, Any]) -> None:
        line = dumps(data).encode("utf-8", "backslashreplace") + b"\n"
        self._files[part].write(line)
