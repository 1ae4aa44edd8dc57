"""The curation report as one self-contained HTML page: tables, samples and plots.

The page is rendered from ``templates/report.html`` by Jinja2 with autoescaping on, so any
text a corpus row holds (a ``<script>``, an attribute breaker) is shown, never run. Plots are
matplotlib figures drawn on the object API with the Agg canvas (no pyplot, nothing global)
and embedded as base64 PNG through the shared :func:`bastion.training.figures.png_data_uri`
(no timestamp: reruns give identical files). Labels come from stage reasons and languages,
so they are cut, stripped of non-printable characters and have ``$`` escaped (matplotlib
would parse it as mathtext and fail on a stray one). A plot with nothing to show is left
out and the page says why instead.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["PLOTS", "html_report", "plots"]

PLOTS = ("removals", "harm", "scores", "duplicates", "languages")
_TOP = 30  # bars per plot; the tables list everything
_LABEL_CHARS = 40


def html_report(view: dict[str, Any]) -> str:
    """The report (a :func:`~bastion.curate.report.report_view`) as one HTML document."""
    from jinja2 import Environment, PackageLoader, StrictUndefined

    env = Environment(
        loader=PackageLoader("bastion.curate", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    return env.get_template("report.html").render(view=view, plots=plots(view))


def plots(view: dict[str, Any]) -> dict[str, str | None]:
    """Each plot of :data:`PLOTS` as a PNG data URI, or None when it has nothing to show."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    from bastion.training.figures import png_data_uri

    drawers: dict[str, Callable[[dict[str, Any]], Figure | None]] = {
        "removals": _removals,
        "harm": _harm,
        "scores": _scores,
        "duplicates": _duplicates,
        "languages": _languages,
    }
    out: dict[str, str | None] = {}
    with warnings.catch_warnings():  # a glyph the font lacks is drawn as a box, not an error
        warnings.filterwarnings("ignore", message=r"Glyph .* missing", category=UserWarning)
        for name in PLOTS:
            figure = drawers[name](view)
            if figure is not None:
                FigureCanvasAgg(figure)
            out[name] = None if figure is None else png_data_uri(figure)
    return out


def _label(value: object) -> str:
    text = "".join(c if c.isprintable() else "?" for c in str(value)[:_LABEL_CHARS])
    return text.replace("$", r"\$") or "(empty)"


def _new(width: float, height: float) -> Figure:
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), layout="constrained")


def _barh(labels: list[str], series: list[tuple[str, list[int], str]], xlabel: str) -> Figure:
    """Horizontal (stacked) bars, first label on top."""
    figure = _new(9, 0.28 * max(len(labels), 3) + 1.2)
    axes = figure.subplots()
    left = [0] * len(labels)
    for name, values, colour in series:
        axes.barh(range(len(labels)), values, left=left, color=colour, label=name)
        left = [a + b for a, b in zip(left, values, strict=True)]
    axes.set_yticks(range(len(labels)), [_label(x) for x in labels], fontsize=8)
    axes.invert_yaxis()
    axes.set_xlabel(xlabel)
    if len(series) > 1:
        axes.legend(loc="best", fontsize=8)
    return figure


def _removals(view: dict[str, Any]) -> Figure | None:
    rows = [r for r in view["reasons"] if r["action"] == "drop"]
    rows = sorted(rows, key=lambda r: -r["rows"])[:_TOP]
    if not rows:
        return None
    labels = [f"{r['stage']}: {r['reason']}" for r in rows]
    return _barh(labels, [("removed", [r["rows"] for r in rows], "#c62828")], "rows removed")


def _harm(view: dict[str, Any]) -> Figure | None:
    rows = view["harm"][:_TOP]
    if not rows:
        return None
    return _barh(
        [h["category"] for h in rows],
        [
            ("removed", [h["removed"] for h in rows], "#c62828"),
            ("flagged", [h["flagged"] for h in rows], "#f9a825"),
        ],
        "rows",
    )


def _languages(view: dict[str, Any]) -> Figure | None:
    rows = view["languages"][:_TOP]
    if not rows:
        return None
    return _barh(
        [g["language"] for g in rows],
        [
            ("kept", [g["kept"] for g in rows], "#2e7d32"),
            ("removed", [g["removed"] for g in rows], "#c62828"),
        ],
        "rows",
    )


def _scores(view: dict[str, Any]) -> Figure | None:
    stages = [(name, h) for name, h in view["scores"].items() if h["counts"]]
    if not stages:
        return None
    columns = min(3, len(stages))
    rows = math.ceil(len(stages) / columns)
    figure = _new(4 * columns, 2.6 * rows)
    grid = figure.subplots(rows, columns, squeeze=False)
    for index, (name, hist) in enumerate(stages):
        axes = grid[index // columns][index % columns]
        edges, counts = hist["edges"], hist["counts"]
        # Bars at bin positions, edges as tick labels: any scale draws (even near 1e308).
        axes.bar(range(len(counts)), counts, width=1.0, align="edge", color="#1565c0")
        ticks = sorted({0, len(counts) // 2, len(counts)})
        axes.set_xticks(ticks, [f"{edges[t]:.3g}" for t in ticks])
        partial = not hist["exact"] and hist["binned"] < hist["count"]
        note = f" (first {hist['binned']:,} scores)" if partial else ""
        axes.set_title(_label(name) + note, fontsize=9)
        axes.set_xlabel("score", fontsize=8)
        axes.tick_params(labelsize=7)
    for index in range(len(stages), rows * columns):
        grid[index // columns][index % columns].set_axis_off()
    return figure


def _duplicates(view: dict[str, Any]) -> Figure | None:
    sizes = view["duplicates"]["sizes"]
    if not sizes:
        return None
    figure = _new(8, 3.5)
    axes = figure.subplots()
    labels = [s["size"] for s in sizes]
    axes.bar(range(len(sizes)), [s["clusters"] for s in sizes], color="#6a1b9a")
    axes.set_xticks(range(len(sizes)), labels, fontsize=8)
    axes.set_yscale("log")
    axes.set_xlabel("rows per cluster (1: unique rows)")
    axes.set_ylabel("clusters (log)")
    return figure
