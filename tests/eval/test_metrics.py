"""Wilson and bootstrap intervals, the trade-off curve and calibration error."""

from __future__ import annotations

import numpy as np
import pytest

from bastion.core.stats import wilson
from bastion.eval import bootstrap_mean, expected_calibration_error, rate, tradeoff_curve
from bastion.eval.metrics import bootstrap_stat, proportion, rows_by
from bastion.eval.results import ItemResult


def test_rate_has_interval_around_value_and_count() -> None:
    metric = rate("pass", [True] * 80 + [False] * 20)
    assert metric.value == pytest.approx(0.8)
    assert metric.n == 100
    assert metric.low < 0.8 < metric.high
    assert metric.low > 0.65 and metric.high < 0.9


def test_rate_is_reproducible_with_a_fixed_seed() -> None:
    flags = [True, False, True, True, False, True]
    assert rate("x", flags, seed=3) == rate("x", flags, seed=3)


def test_empty_rate_is_zero_with_no_samples() -> None:
    metric = rate("x", [])
    assert (metric.value, metric.low, metric.high, metric.n) == (0.0, 0.0, 0.0, 0)


def test_rate_is_the_wilson_interval_of_its_counts() -> None:
    metric = rate("x", [True] * 5 + [False] * 5)
    assert (metric.low, metric.high) == wilson(5, 10)
    assert metric.low == pytest.approx(0.2366, abs=1e-4)


def test_all_true_and_all_false_keep_a_non_zero_width() -> None:
    every = rate("x", [True] * 10)
    assert every.value == every.high == 1.0 and every.low < 1.0
    assert every.low == pytest.approx(0.7225, abs=1e-4)
    none = rate("x", [False] * 4)
    assert none.value == none.low == 0.0 and none.high > 0.0


def test_proportion_from_counts() -> None:
    metric = proportion("p", 3, 4, higher_is_better=False)
    assert (metric.value, metric.n, metric.higher_is_better) == (0.75, 4, False)
    assert (metric.low, metric.high) == wilson(3, 4)
    assert proportion("p", 0, 0).n == 0


def test_bootstrap_mean_of_binary_values_is_wilson() -> None:
    metric = bootstrap_mean("m", [0.0, 1.0] * 50)
    assert metric.value == pytest.approx(0.5)
    assert (metric.low, metric.high) == wilson(50, 100)
    assert bootstrap_mean("m", []).n == 0


def test_bootstrap_mean_of_other_values_is_bootstrapped() -> None:
    values = [0.1, 0.4, 0.35, 0.8, 0.55] * 10
    metric = bootstrap_mean("m", values, seed=1)
    assert metric.low < metric.value < metric.high
    assert metric == bootstrap_mean("m", values, seed=1)
    same = bootstrap_mean("m", [0.3] * 5)  # degenerate: no variation to measure
    assert same.low == same.high == pytest.approx(0.3)


def _f1(rows: np.ndarray) -> np.ndarray:
    said, truth = rows[..., 0], rows[..., 1]
    tp = (said * truth).sum(-1)
    den = said.sum(-1) + truth.sum(-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, 2 * tp / np.maximum(den, 1), np.nan)


def test_bootstrap_stat_for_a_non_proportion() -> None:
    rows = np.array([[1, 1], [1, 0], [0, 1], [1, 1], [0, 0]] * 6, dtype=np.float64)
    metric = bootstrap_stat("f1", rows, _f1, count=30)
    assert metric.value == pytest.approx(2 * 12 / (18 + 18))
    assert metric.low < metric.value < metric.high and metric.n == 30
    undefined = bootstrap_stat("f1", np.zeros((4, 2)), _f1)
    assert undefined.n == 0


def test_tradeoff_curve_ends() -> None:
    curve = tradeoff_curve([0.1, 0.2, 0.3], [0.7, 0.9])
    first, last = curve[0], curve[-1]
    assert (first.benign_pass, first.unsafe_catch) == (0.0, 1.0)
    assert last.benign_pass == 1.0 and last.unsafe_catch == 0.0
    mid = next(p for p in curve if p.threshold >= 0.5)
    assert (mid.benign_pass, mid.unsafe_catch) == (1.0, 1.0)
    assert tradeoff_curve([], [0.5]) == ()


def test_calibration_error() -> None:
    ece, bins = expected_calibration_error([0.05] * 10 + [0.95] * 10, [False] * 10 + [True] * 10)
    assert ece == pytest.approx(0.05)
    assert sum(b.count for b in bins) == 20
    assert expected_calibration_error([], []) == (0.0, ())


def test_rows_by_group() -> None:
    items = [
        ItemResult("s", str(i), "a" if i < 4 else "b", passed=i % 2 == 0, expected="", got="")
        for i in range(6)
    ]
    rows = rows_by("t", items)
    assert [r.name for r in rows] == ["a", "b"]
    assert rows[0].metric.value == 0.5 and rows[0].metric.n == 4


def test_category_row_keeps_its_own_name() -> None:
    (row,) = rows_by("category", [ItemResult("s", "1", "violence", True, "", "")])
    data = row.to_dict()
    assert (data["table"], data["name"], data["metric"], data["n"]) == (
        "category",
        "violence",
        "pass_rate",
        1,
    )
