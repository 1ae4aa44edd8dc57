"""One statistics module: Wilson, Newcombe and the bootstrap (bastion.core.stats)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from bastion.core.stats import (
    bootstrap_interval,
    mover_difference,
    newcombe_difference,
    wilson,
)


@st.composite
def counts(draw: st.DrawFn, max_trials: int = 10_000) -> tuple[int, int]:
    trials = draw(st.integers(0, max_trials))
    return draw(st.integers(0, trials)), trials


def _mean(x: np.ndarray) -> np.ndarray:
    return np.asarray(x.mean(axis=1))


@given(counts())
def test_wilson_brackets_the_share_and_never_collapses(kn: tuple[int, int]) -> None:
    k, n = kn
    low, high = wilson(k, n)
    p = k / n if n else 0.0
    assert 0.0 <= low <= p <= high <= 1.0
    if n >= 1:
        assert low < high


@pytest.mark.parametrize("n", [1, 2, 4, 40, 10_000])
def test_wilson_edges(n: int) -> None:
    low, high = wilson(0, n)
    assert low == 0.0 and 0.0 < high < 1.0
    low, high = wilson(n, n)
    assert high == 1.0 and 0.0 < low < 1.0


def test_wilson_reference_values() -> None:
    assert wilson(5, 10) == pytest.approx((0.2366, 0.7634), abs=1e-4)
    assert wilson(1, 1) == pytest.approx((0.2065, 1.0), abs=1e-4)
    assert wilson(0, 1) == pytest.approx((0.0, 0.7935), abs=1e-4)
    assert wilson(4, 4)[0] == pytest.approx(0.5101, abs=1e-4)  # was [1.000, 1.000] (n=4)
    assert wilson(0, 0) == (0.0, 1.0)


def test_wilson_rejects_impossible_counts() -> None:
    with pytest.raises(ValueError, match="successes"):
        wilson(5, 4)


def test_newcombe_reference_values() -> None:
    # Newcombe (1998), table II example (a): 56/70 vs 48/80, difference 0.2000.
    diff, low, high = newcombe_difference(48, 80, 56, 70)
    assert diff == pytest.approx(0.2)
    assert (low, high) == pytest.approx((0.0524, 0.3339), abs=1e-4)
    # The sign convention is second minus first: swapping the runs mirrors the interval.
    diff, low, high = newcombe_difference(56, 70, 48, 80)
    assert diff == pytest.approx(-0.2)
    assert (low, high) == pytest.approx((-0.3339, -0.0524), abs=1e-4)
    # Example (b), 9/10 vs 3/10: 0.6 with (0.1705, 0.8090).
    assert newcombe_difference(3, 10, 9, 10)[1:] == pytest.approx((0.1705, 0.8090), abs=1e-4)


@given(counts(), counts())
def test_newcombe_bounds(first: tuple[int, int], second: tuple[int, int]) -> None:
    diff, low, high = newcombe_difference(*first, *second)
    assert -1.0 <= low <= diff <= high <= 1.0
    if first[1] and second[1]:
        assert low < high


@given(counts())
def test_identical_proportions_differ_by_zero_inside_the_interval(kn: tuple[int, int]) -> None:
    diff, low, high = newcombe_difference(*kn, *kn)
    assert diff == 0.0 and low <= 0.0 <= high
    if kn[1]:
        assert low < 0.0 < high


def test_newcombe_is_mover_over_wilson() -> None:
    expected = mover_difference(0.3, wilson(3, 10), 0.9, wilson(9, 10))
    assert newcombe_difference(3, 10, 9, 10) == pytest.approx(expected)


@given(
    # Values on a 0.01 grid: "varied" must hold at float precision, not only in the bits.
    st.lists(st.integers(-(10**8), 10**8).map(lambda i: i / 100), min_size=2, max_size=60).filter(
        lambda v: len(set(v)) > 1
    ),
    st.integers(0, 2**32 - 1),
)
def test_bootstrap_of_a_varied_sample_has_positive_width(values: list[float], seed: int) -> None:
    data = np.asarray(values)
    low, high = bootstrap_interval(data, _mean, seed=seed, samples=200)
    assert low < high
    assert low <= float(data.mean()) <= high


def test_bootstrap_is_reproducible_and_degenerate_samples_are_points() -> None:
    data = np.array([0.2, 0.5, 0.9, 0.1, 0.4])
    assert bootstrap_interval(data, _mean, seed=7) == bootstrap_interval(data, _mean, seed=7)
    assert bootstrap_interval(np.full(6, 0.25), _mean) == (0.25, 0.25)


def test_bootstrap_refuses_what_it_cannot_measure() -> None:
    with pytest.raises(ValueError, match="empty"):
        bootstrap_interval(np.array([]), _mean)

    def median(x: np.ndarray) -> np.ndarray:
        return np.asarray(np.median(x, axis=1))

    rare = np.array([0.0] * 999 + [5.0])  # the median never moves: no interval to give
    with pytest.raises(ValueError, match="does not vary"):
        bootstrap_interval(rare, median, samples=50)
