"""The kept rows as a Hugging Face dataset: Parquet shards and a dataset card.

``OUT/parquet/<shard>.parquet`` has one fixed schema whatever the input shapes, so the
shards load together (``datasets.load_dataset("parquet", data_dir="OUT/parquet")``) and
TRL's trainers find the columns they read: ``text`` (documents), ``messages`` (chat, a
list of ``{role, content}``), ``prompt`` / ``completion`` (pairs; ``response`` is renamed).
``curation`` (id, cluster, flags, ...) and every other input field are JSON strings.
``OUT/README.md`` is the dataset card: what was kept and removed, by which stages, under
which policy and curation context. Written shard by shard, a bounded number of rows at a
time, so memory stays flat.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from bastion.curate.summary import CurationSummary

__all__ = ["write_dataset_card", "write_parquet"]

_CHUNK = 10_000
_SHAPE = ("text", "messages", "prompt", "response", "completion", "curation")


def write_parquet(out: Path) -> list[Path]:
    """Convert every ``OUT/kept/**.jsonl`` to ``OUT/parquet/**.parquet``; the paths."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = pa.schema(
        [
            ("text", pa.string()),
            ("messages", pa.list_(pa.struct([("role", pa.string()), ("content", pa.string())]))),
            ("prompt", pa.string()),
            ("completion", pa.string()),
            ("curation", pa.string()),
            ("fields", pa.string()),
        ]
    )
    written = []
    for source in sorted((out / "kept").rglob("*.jsonl")):
        dest = out / "parquet" / source.relative_to(out / "kept").with_suffix(".parquet")
        dest.parent.mkdir(parents=True, exist_ok=True)
        with pq.ParquetWriter(dest, schema) as writer:
            for chunk in _chunks(source):
                writer.write_table(pa.Table.from_pylist(chunk, schema=schema))
        written.append(dest)
    return written


def _chunks(path: Path) -> Iterator[list[dict[str, Any]]]:
    chunk: list[dict[str, Any]] = []
    with path.open(encoding="utf-8", errors="surrogateescape") as handle:
        for line in handle:
            chunk.append(_columns(json.loads(line)))
            if len(chunk) >= _CHUNK:
                yield chunk
                chunk = []
    if chunk:
        yield chunk


def _columns(row: Mapping[str, Any]) -> dict[str, Any]:
    messages = row.get("messages")
    return {
        "text": row.get("text"),
        "messages": messages if isinstance(messages, list) else None,
        "prompt": row.get("prompt"),
        "completion": row.get("response", row.get("completion")),
        "curation": json.dumps(row.get("curation", {}), ensure_ascii=False),
        "fields": json.dumps(
            {k: v for k, v in row.items() if k not in _SHAPE}, ensure_ascii=False, default=str
        ),
    }


def write_dataset_card(out: Path, summary: CurationSummary, meta: Mapping[str, Any]) -> Path:
    """``OUT/README.md``: a Hugging Face dataset card for the kept rows."""
    totals = summary.totals
    data_files = "parquet/**/*.parquet" if (out / "parquet").is_dir() else "kept/**/*.jsonl"
    lines = [
        "---",
        "configs:",
        "- config_name: default",
        f'  data_files: "{data_files}"',
        "---",
        f"# Curated corpus ({meta.get('source', '')})",
        "",
        f"Curated by `bastion curate` in context `{meta.get('context')}` under policy "
        f"`{meta.get('policy')}`; stages: {', '.join(meta.get('stages', []))}.",
        "",
        "| rows read | kept | removed | unreadable | redacted | flagged |",
        "|---|---|---|---|---|---|",
        f"| {totals.rows:,} | {totals.kept:,} | {totals.removed:,} | {totals.errors:,} | "
        f"{totals.redacted:,} | {totals.flagged:,} |",
        "",
        "Every kept row carries `curation` (row id, duplicate cluster, language, flags,"
        " redactions). Removed rows, with the stage, score, rule and evidence that removed"
        " them, are in `removed/`; the full report is `report.html`.",
        "",
        "Personal data was replaced by markers (`[EMAIL]`, `[PHONE]`, ...) where the `pii`"
        " stage found it; names are not redacted.",
    ]
    if "decontaminated_against" in meta:
        lines += ["", "Decontaminated against (sha256):", ""]
        lines += [
            f"- `{name}`: `{digest}`" for name, digest in meta["decontaminated_against"].items()
        ]
    card = out / "README.md"
    card.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return card
