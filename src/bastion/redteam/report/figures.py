"""Report figures as PNG bytes: an ASR heatmap (family x category) and per-family bars
with Wilson 95 % error bars. matplotlib is an optional extra, imported lazily."""

from __future__ import annotations

import io
from typing import Any

from bastion.redteam.report.stats import Summary

__all__ = ["family_bars_png", "have_matplotlib", "heatmap_png"]


def have_matplotlib() -> bool:
    """Whether figures can be drawn."""
    import importlib.util

    return importlib.util.find_spec("matplotlib") is not None


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")  # no display: render to memory only
    import matplotlib.pyplot as plt

    return plt


def _png(fig: Any) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
    _pyplot().close(fig)
    return buffer.getvalue()


def heatmap_png(summary: Summary) -> bytes:
    """ASR per technique family (rows) and category (columns), annotated."""
    plt = _pyplot()
    families = list(summary.by_family_category)
    categories = list(summary.by_category)
    grid = [[summary.by_family_category[f].get(c) for c in categories] for f in families]
    values = [[r.asr if r and r.trials else float("nan") for r in row] for row in grid]
    fig, ax = plt.subplots(figsize=(1.0 + 0.75 * len(categories), 1.0 + 0.45 * len(families)))
    image = ax.imshow(values, vmin=0.0, vmax=1.0, cmap="Reds", aspect="auto")
    ax.set_xticks(range(len(categories)), categories, rotation=45, ha="right", fontsize=8)
    ax.set_yticks(range(len(families)), families, fontsize=8)
    for i, row in enumerate(grid):
        for j, rate in enumerate(row):
            if rate and rate.trials:
                ax.text(j, i, f"{rate.asr:.0%}", ha="center", va="center", fontsize=7)
    fig.colorbar(image, ax=ax, label="attack success rate")
    ax.set_title("ASR by technique family x category")
    return _png(fig)


def family_bars_png(summary: Summary) -> bytes:
    """ASR per family with Wilson 95 % error bars."""
    plt = _pyplot()
    names = list(summary.by_family)
    rates = [summary.by_family[n] for n in names]
    asr = [r.asr for r in rates]
    # Clamped: float rounding can put an interval bound a hair past the rate itself.
    low = [max(0.0, r.asr - r.interval[0]) for r in rates]
    high = [max(0.0, r.interval[1] - r.asr) for r in rates]
    fig, ax = plt.subplots(figsize=(1.5 + 0.6 * len(names), 3.5))
    ax.bar(names, asr, yerr=[low, high], capsize=4, color="#c0392b")
    ax.set_ylim(0, 1)
    ax.set_ylabel("attack success rate")
    ax.set_title("ASR by technique family (Wilson 95% CI)")
    ax.tick_params(axis="x", rotation=45, labelsize=8)
    return _png(fig)
