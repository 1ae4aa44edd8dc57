"""Renderers of ``bastion eval`` results: report.json, compare.json and recovered counts.

Every share prints as ``value [low, high] (n=N)`` with its Wilson 95 % interval computed
from its counts (a report's ``value`` times ``n``; :func:`bastion.published._markdown.counts_of`),
every difference of two shares with Newcombe's interval; a statistic that is not a share
keeps the interval its report gives.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from bastion.core.errors import InputError
from bastion.published._markdown import (
    Options,
    counts_of,
    difference_cell,
    md_table,
    metric_cell,
    required,
    verdict,
)
from bastion.published.counts_tables import count_cell, legacy_table, row_key

__all__ = ["eval_compare", "eval_metrics", "eval_rows", "eval_side_by_side"]

Key = tuple[str, ...]
Column = tuple[str, dict[Key, str]]  # a label and its cells by row key


def eval_metrics(reports: Sequence[Any], options: Options) -> list[str]:
    """Every suite's headline metrics of one report."""
    (report,) = reports
    rows = [
        [suite["suite"], metric["name"], metric_cell(metric)]
        for suite in report["suites"]
        if not suite.get("skipped")
        for metric in suite["metrics"]
    ]
    return md_table(["suite", "metric", "value [95 % CI] (n)"], rows)


def _labels(options: Options, defaults: Sequence[str]) -> list[str]:
    if "labels" not in options:
        return list(defaults)
    labels = [label.strip() for label in options["labels"].split(",")]
    if len(labels) != len(defaults):
        given = options["labels"]
        raise InputError(f"labels={given!r}: {len(defaults)} columns, not {len(labels)}")
    return labels


def _suite(report: Mapping[str, Any], name: str) -> Mapping[str, Any]:
    for suite in report["suites"]:
        if suite["suite"] == name:
            return dict(suite)
    raise InputError(f"report of {report.get('target', '?')!r} has no suite {name!r}")


def _group_rows(report: Mapping[str, Any], options: Options) -> list[Mapping[str, Any]]:
    table = required(options, "table")
    return [r for r in _suite(report, required(options, "suite"))["rows"] if r["table"] == table]


def _pivot(report: Mapping[str, Any], options: Options) -> list[str]:
    cells: dict[str, dict[str, str]] = {}
    for row in _group_rows(report, options):
        group, _, stat = str(row["name"]).rpartition(" ")
        cells.setdefault(group, {})[stat] = metric_cell(row)
    stats = list(dict.fromkeys(s for by_stat in cells.values() for s in by_stat))
    rows = [[g, *(by_stat.get(s, "-") for s in stats)] for g, by_stat in cells.items()]
    return md_table([options.get("group", required(options, "table")), *stats], rows)


def eval_rows(reports: Sequence[Any], options: Options) -> list[str]:
    """The per-group rows of one table of one suite (``suite=``, ``table=``), one column per
    report (``labels=`` a comma list; default each report's target). With ``pivot=yes``
    (one report) rows named ``GROUP STAT`` become a row per group and a column per stat;
    ``group=`` names the group column (default the table's name)."""
    if options.get("pivot") == "yes":
        (report,) = reports
        return _pivot(report, options)
    columns: list[dict[str, str]] = [
        {str(r["name"]): metric_cell(r) for r in _group_rows(report, options)} for report in reports
    ]
    names = list(dict.fromkeys(name for column in columns for name in column))
    rows = [[name, *(column.get(name, "-") for column in columns)] for name in names]
    labels = _labels(options, [str(report["target"]) for report in reports])
    return md_table([options.get("group", required(options, "table")), *labels], rows)


def _report_column(report: Mapping[str, Any]) -> Column:
    cells: dict[Key, str] = {}
    for suite in report["suites"]:
        for metric in suite["metrics"]:
            cells[(suite["suite"], metric["name"])] = metric_cell(metric)
    return str(report["target"]), cells


def _skipped(report: Mapping[str, Any]) -> set[str]:
    return {s["suite"] for s in report["suites"] if s.get("skipped")}


def _legacy_columns(data: Mapping[str, Any], options: Options) -> list[Column]:
    table = legacy_table(data, required(options, "table"))
    return [
        (name, {row_key(row): count_cell(row.get(name)) for row in table["rows"]})
        for name in table["columns"]
    ]


def _columns(sources: Sequence[Any], options: Options) -> tuple[list[Column], set[str]]:
    columns: list[Column] = []
    skipped: set[str] = set()
    for source in sources:
        if "suites" in source:
            columns.append(_report_column(source))
            skipped |= _skipped(source)
        else:
            columns += _legacy_columns(source, options)
    return columns, skipped


def eval_side_by_side(sources: Sequence[Any], options: Options) -> list[str]:
    """Every suite's headline metrics, one column per report (or per column of the
    recovered-counts table ``table=`` of a legacy file among the sources); rows sorted by
    suite. ``labels=`` renames the columns in order; a suite a report skipped says so."""
    columns, skipped = _columns(sources, options)
    keys = list(dict.fromkeys(key for _, cells in columns for key in cells))
    keys.sort(key=lambda key: key[0])  # stable: metrics keep their report order
    rows = [
        [*key, *(cells.get(key, "skipped" if key[0] in skipped else "-") for _, cells in columns)]
        for key in keys
    ]
    labels = _labels(options, [label for label, _ in columns])
    return md_table(["suite", "metric", *labels], rows)


def _compare_row(diff: Mapping[str, Any]) -> list[str]:
    a, b = diff["a"], diff["b"]
    ka, kb = counts_of(a), counts_of(b)
    higher = bool(a.get("higher_is_better", True))
    if ka is not None and kb is not None:
        cell, low, high = difference_cell((ka, int(a["n"])), (kb, int(b["n"])))
    else:  # not shares: the interval compare.json gives
        low, high = float(diff["low"]), float(diff["high"])
        cell = f"{diff['diff']:+.3f} [{low:+.3f}, {high:+.3f}]"
    cells = [metric_cell(a), metric_cell(b), cell, verdict(low, high, higher_is_better=higher)]
    return [diff["suite"], diff["metric"], *cells]


def eval_compare(compares: Sequence[Any], options: Options) -> list[str]:
    """``bastion eval compare``'s compare.json: each metric of runs A and B, ``B - A`` with
    Newcombe's 95 % interval and the verdict; ``labels=A,B`` names the runs."""
    (compare,) = compares
    a, b = _labels(options, ["A", "B"])
    rows = [_compare_row(diff) for diff in compare["diffs"]]
    header = ["suite", "metric", a, b, f"{b} - {a} [95 % CI, Newcombe]", "verdict"]
    return md_table(header, rows)
