"""Markdown tables, eval-style proportion cells and block options, shared by the renderers.

Machinery of :mod:`bastion.published`, not public API.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from bastion.core.errors import InputError
from bastion.core.stats import newcombe_difference, wilson

__all__ = [
    "Options",
    "counts_of",
    "difference_cell",
    "md_table",
    "metric_cell",
    "rate_cell",
    "required",
    "verdict",
]

Options = Mapping[str, str]
"""A block's ``key=value`` words."""

_ROUNDING = 0.5e-4 + 1e-9  # a report's values carry four decimals


def _md_row(cells: Sequence[object]) -> str:
    return "| " + " | ".join(str(c).replace("|", "\\|") for c in cells) + " |"


def md_table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> list[str]:
    """The lines of a Markdown table."""
    return [_md_row(header), "|" + "---|" * len(header), *(_md_row(r) for r in rows)]


def rate_cell(successes: int, trials: int) -> str:
    """``0.365 [0.294, 0.443] (n=156)``: the share with its Wilson 95 % interval."""
    if trials <= 0:
        return "n/a"
    low, high = wilson(successes, trials)
    return f"{successes / trials:.3f} [{low:.3f}, {high:.3f}] (n={trials})"


def counts_of(metric: Mapping[str, Any]) -> int | None:
    """The ``k`` of a report metric whose value is ``k / n`` (to four decimals), else None."""
    n, value = int(metric.get("n", 0)), float(metric["value"])
    if n <= 0 or not 0.0 <= value <= 1.0:
        return None
    k = round(value * n)
    return k if abs(k / n - value) <= _ROUNDING else None


def metric_cell(metric: Mapping[str, Any]) -> str:
    """A report metric: a share gets its Wilson interval from its counts; any other
    statistic keeps the interval its report gives (a bootstrap, :mod:`bastion.core.stats`)."""
    n = int(metric.get("n", 0))
    if not n:
        return "n/a"
    k = counts_of(metric)
    if k is not None:
        return rate_cell(k, n)
    return f"{metric['value']:.3f} [{metric['low']:.3f}, {metric['high']:.3f}] (n={n})"


def difference_cell(old: tuple[int, int], new: tuple[int, int]) -> tuple[str, float, float]:
    """``new - old`` of two ``(successes, trials)`` with Newcombe's 95 % interval: the cell,
    and the interval's ends (for :func:`verdict`)."""
    diff, low, high = newcombe_difference(old[0], old[1], new[0], new[1])
    return f"{diff:+.3f} [{low:+.3f}, {high:+.3f}]", low, high


def verdict(low: float, high: float, *, higher_is_better: bool) -> str:
    """``better`` / ``worse`` when the difference's interval excludes 0, else ``unclear``."""
    if low > 0 or high < 0:
        return "better" if (low > 0) == higher_is_better else "worse"
    return "unclear"


def required(options: Options, key: str) -> str:
    """The option ``key``.

    Raises:
        InputError: the block does not give it.
    """
    if key not in options:
        raise InputError(f"this results table needs the option {key}=...")
    return options[key]
