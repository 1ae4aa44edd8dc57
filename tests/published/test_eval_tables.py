"""The eval and recovered-counts kinds of results blocks, on small hand-made JSON."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from bastion.core.errors import InputError
from bastion.published import render_table, render_text
from bastion.published.docs import find_tables


def _metric(name: str, k: int, n: int, **extra: Any) -> dict[str, Any]:
    # low/high deliberately wrong (a zero-width bootstrap): cells must not read them
    value = round(k / n, 4)
    return {"name": name, "value": value, "low": value, "high": value, "n": n, **extra}


def _report(target: str, k: int) -> dict[str, Any]:
    rows = [
        {**_metric("drugs", k, 4), "table": "category"},
        {**_metric("weapons", 4, 4), "table": "category"},
        {**_metric("advbench", 1, 2), "table": "source"},
        {**_metric("crisis precision", 3, 3), "table": "judge check"},
        {**_metric("crisis recall", 3, 4), "table": "judge check"},
        {**_metric("all precision", 5, 5), "table": "judge check"},
    ]
    return {
        "target": target,
        "suites": [
            {"suite": "under_refusal", "skipped": False, "metrics": [_metric("catch", k, 4)],
             "rows": rows},
            {"suite": "sycophancy", "skipped": True, "metrics": [], "rows": []},
        ],
    }  # fmt: skip


def _counts(k: int, n: int) -> dict[str, int]:
    return {"successes": k, "trials": n}


LEGACY: dict[str, Any] = {
    "note": "recovered",
    "tables": [
        {
            "id": "by-category",
            "header": ["category"],
            "columns": ["rules", "learned"],
            "rows": [
                {"name": "drugs", "rules": _counts(0, 4), "learned": _counts(4, 4)},
                {"name": "weapons", "rules": None, "learned": _counts(1, 2)},
            ],
        },
        {
            "id": "sample",
            "header": ["suite", "metric"],
            "columns": ["guard (sample)"],
            "rows": [
                {"name": ["under_refusal", "catch"], "guard (sample)": _counts(2, 4)},
                {"name": ["sycophancy", "flip_rate"], "guard (sample)": None},
            ],
        },
        {
            "id": "pair",
            "header": ["metric"],
            "columns": ["rules", "default"],
            "rows": [
                {"name": "rate", "rules": _counts(10, 168), "default": _counts(47, 168)},
                {
                    "name": "bare",
                    "rules": _counts(0, 168),
                    "default": _counts(6, 168),
                    "higher_is_better": False,
                },
            ],
        },
    ],
}


def _lines(text: str) -> list[str]:
    return text.splitlines()


def test_eval_metrics_computes_wilson_from_the_counts_not_the_json() -> None:
    text = render_table("eval_metrics", [_report("guard", 4)])
    assert "| under_refusal | catch | 1.000 [0.510, 1.000] (n=4) |" in text
    assert "sycophancy" not in text  # skipped suites have no metrics row


def test_a_statistic_that_is_not_a_share_keeps_its_own_interval() -> None:
    report = _report("guard", 1)
    report["suites"][0]["metrics"] = [{"name": "f1", "value": 0.1234, "low": 0.05,
                                       "high": 0.2, "n": 7}]  # fmt: skip
    assert "0.123 [0.050, 0.200] (n=7)" in render_table("eval_metrics", [report])


def test_eval_rows_one_column_per_report_and_labels() -> None:
    options = {"suite": "under_refusal", "table": "category", "labels": "A, B"}
    text = render_table("eval_rows", [_report("guard", 0), _report("smol", 2)], options)
    assert _lines(text)[0] == "| category | A | B |"
    assert "| drugs | 0.000 [0.000, 0.490] (n=4) | 0.500 [0.150, 0.850] (n=4) |" in text
    assert "advbench" not in text  # another table of the suite


def test_eval_rows_pivots_group_stat_rows() -> None:
    options = {"suite": "under_refusal", "table": "judge check", "pivot": "yes", "group": "b"}
    lines = _lines(render_table("eval_rows", [_report("guard", 1)], options))
    assert lines[0] == "| b | precision | recall |"
    assert lines[2] == "| crisis | 1.000 [0.439, 1.000] (n=3) | 0.750 [0.301, 0.954] (n=4) |"
    assert lines[3] == "| all | 1.000 [0.566, 1.000] (n=5) | - |"


def test_eval_side_by_side_mixes_reports_and_a_counts_column() -> None:
    sources = [_report("guard", 4), LEGACY, _report("smol", 1)]
    text = render_table("eval_side_by_side", sources, {"table": "sample"})
    lines = _lines(text)
    assert lines[0] == "| suite | metric | guard | guard (sample) | smol |"
    assert lines[2].startswith("| sycophancy | flip_rate | skipped | skipped | skipped |")
    assert "| under_refusal | catch | 1.000 [0.510, 1.000] (n=4) | 0.500" in text
    with pytest.raises(InputError, match="3 columns, not 2"):
        render_table("eval_side_by_side", sources, {"table": "sample", "labels": "a,b"})


def test_eval_compare_recomputes_newcombe_and_the_verdict() -> None:
    a, b = _metric("catch", 1, 40), _metric("catch", 29, 40)
    lower = _metric("refuse", 0, 40, higher_is_better=False)
    worse = _metric("refuse", 10, 40, higher_is_better=False)
    compare = {
        "a": "r1",
        "b": "r2",
        "diffs": [
            {"suite": "s", "metric": "catch", "a": a, "b": b, "diff": 0, "low": 0, "high": 0,
             "verdict": "unclear"},
            {"suite": "s", "metric": "refuse", "a": lower, "b": worse, "diff": 0, "low": 0,
             "high": 0, "verdict": "unclear"},
        ],
    }  # fmt: skip
    lines = _lines(render_table("eval_compare", [compare], {"labels": "old,new"}))
    assert lines[0].endswith("| old | new | new - old [95 % CI, Newcombe] | verdict |")
    assert lines[2].endswith("| +0.700 [+0.515, +0.816] | better |")
    assert lines[3].endswith("| worse |")


def test_counts_table_renders_wilson_and_null_as_skipped() -> None:
    text = render_table("counts_table", [LEGACY], {"table": "by-category"})
    assert _lines(text)[0] == "| category | rules | learned |"
    assert "| drugs | 0.000 [0.000, 0.490] (n=4) | 1.000 [0.510, 1.000] (n=4) |" in text
    assert "| weapons | skipped | 0.500 [0.095, 0.905] (n=2) |" in text


def test_counts_compare_adds_the_difference_and_direction() -> None:
    lines = _lines(render_table("counts_compare", [LEGACY], {"table": "pair"}))
    assert (
        lines[0] == "| metric | rules | default | default - rules [95 % CI, Newcombe] | verdict |"
    )
    assert lines[2].endswith("| +0.220 [+0.142, +0.297] | better |")
    assert lines[3].startswith("| bare (lower is better) |") and lines[3].endswith("| worse |")


def test_options_are_checked() -> None:
    with pytest.raises(InputError, match="no counts table 'nope'; known: by-category"):
        render_table("counts_table", [LEGACY], {"table": "nope"})
    with pytest.raises(InputError, match="needs the option table="):
        render_table("counts_table", [LEGACY])
    with pytest.raises(InputError, match="takes no option colour"):
        render_table("counts_table", [LEGACY], {"table": "pair", "colour": "red"})
    with pytest.raises(InputError, match="takes no option"):
        render_table("eval_metrics", [_report("guard", 1)], {"table": "x"})


def test_block_options_are_parsed_after_the_files_with_quotes(tmp_path: Path) -> None:
    (tmp_path / "r.json").write_text(json.dumps(_report("guard", 1)), encoding="utf-8")
    spec = 'eval_rows r.json suite=under_refusal table="judge check" pivot=yes'
    page = f"<!-- results: {spec} -->\nstale\n<!-- /results -->\n"
    (table,) = find_tables(page, tmp_path)
    assert table.sources == (tmp_path / "r.json",)
    assert dict(table.options) == {"suite": "under_refusal", "table": "judge check", "pivot": "yes"}
    assert "| crisis | 1.000" in render_text(page, tmp_path)
    with pytest.raises(InputError, match="needs a kind and a JSON file"):
        find_tables("<!-- results: eval_rows suite=x -->\n<!-- /results -->", tmp_path)
