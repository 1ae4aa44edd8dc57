"""Renderers of recovered counts: runs whose reports were not committed.

A counts file (``docs/results/eval/legacy-*.json``) holds a ``note`` and ``tables``; each
table has an ``id``, the ``runs`` it comes from, a ``header`` (the names of its key
columns), its ``columns`` and ``rows``. A row has a ``name`` (a string, or a list with one
entry per header column), optionally ``higher_is_better`` (default true), and per column
``{"successes": k, "trials": n}`` or ``null`` (not measured: the suite was skipped)::

    {"id": "t", "header": ["category"], "columns": ["rules", "learned"],
     "rows": [{"name": "drugs", "rules": {"successes": 3, "trials": 9}, "learned": null}]}

The intervals are computed here from the counts (Wilson; Newcombe for a difference), never
read from the file.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from bastion.core.errors import InputError
from bastion.published._markdown import Options, difference_cell, md_table, rate_cell, required
from bastion.published._markdown import verdict as verdict_of

__all__ = ["count_cell", "count_pair", "counts_compare", "counts_table", "legacy_table", "row_key"]


def legacy_table(data: Mapping[str, Any], table_id: str) -> Mapping[str, Any]:
    """The table ``table_id`` of a counts file.

    Raises:
        InputError: the file has no such table.
    """
    for table in data["tables"]:
        if table["id"] == table_id:
            return dict(table)
    known = ", ".join(str(t["id"]) for t in data["tables"])
    raise InputError(f"no counts table {table_id!r}; known: {known}")


def row_key(row: Mapping[str, Any]) -> tuple[str, ...]:
    """A row's key cells: its ``name`` (a string or a list of strings)."""
    name = row["name"]
    return (name,) if isinstance(name, str) else tuple(str(n) for n in name)


def count_pair(count: Mapping[str, Any]) -> tuple[int, int]:
    """``(successes, trials)`` of one count."""
    return int(count["successes"]), int(count["trials"])


def count_cell(count: Mapping[str, Any] | None) -> str:
    """One count as a share with its Wilson interval; ``skipped`` for ``null``."""
    return "skipped" if count is None else rate_cell(*count_pair(count))


def counts_table(sources: Sequence[Any], options: Options) -> list[str]:
    """The counts table ``table=`` of one counts file, one column per measured column."""
    (data,) = sources
    table = legacy_table(data, required(options, "table"))
    rows = [
        [*row_key(row), *(count_cell(row.get(c)) for c in table["columns"])]
        for row in table["rows"]
    ]
    return md_table([*table["header"], *table["columns"]], rows)


def _compare_row(row: Mapping[str, Any], a: str, b: str) -> list[str]:
    old, new = count_pair(row[a]), count_pair(row[b])
    cell, low, high = difference_cell(old, new)
    higher = bool(row.get("higher_is_better", True))
    name = [*row_key(row)]
    name[-1] += "" if higher else " (lower is better)"
    verdict = verdict_of(low, high, higher_is_better=higher)
    return [*name, rate_cell(*old), rate_cell(*new), cell, verdict]


def counts_compare(sources: Sequence[Any], options: Options) -> list[str]:
    """A counts table of two columns A, B (``table=``), with ``B - A`` and Newcombe's 95 %
    interval of the difference, and the verdict (better or worse only when it excludes 0)."""
    (data,) = sources
    table = legacy_table(data, required(options, "table"))
    a, b = table["columns"]
    rows = [_compare_row(row, a, b) for row in table["rows"]]
    header = [*table["header"], a, b, f"{b} - {a} [95 % CI, Newcombe]", "verdict"]
    return md_table(header, rows)
