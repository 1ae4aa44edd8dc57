"""Leave-out tables of the multilingual trainer: harmful caught and benign passed, with
Wilson intervals, per language and per source within each language."""

from __future__ import annotations

from typing import Any, Final, Protocol

import numpy as np
import numpy.typing as npt

from bastion.core.stats import wilson
from bastion.training.multilingual_data import LANGUAGES

__all__ = ["MIN_SOURCE_HARMFUL", "Rows", "language_table", "rate_cell", "source_table"]

Float = npt.NDArray[np.float64]
MIN_SOURCE_HARMFUL: Final = 20
"""Sources with fewer harmful prompts in a language are listed but not ranked as worst."""


class Rows(Protocol):
    """The columns the tables read (the trainer's data)."""

    @property
    def lang(self) -> npt.NDArray[np.str_]: ...

    @property
    def source(self) -> npt.NDArray[np.str_]: ...

    @property
    def y(self) -> npt.NDArray[np.int64]: ...


def rate_cell(hits: int, n: int) -> dict[str, Any]:
    """``hits`` of ``n`` as a rate with its Wilson 95 % interval and the counts."""
    low, high = wilson(hits, n)
    return {
        "rate": round(hits / n, 4) if n else None,
        "ci95": [round(low, 4), round(high, 4)],
        "k": hits,
        "n": n,
    }


def _cell(flagged: npt.NDArray[np.bool_], y: npt.NDArray[np.int64]) -> dict[str, Any]:
    harmful, benign = y == 1, y == 0
    return {
        "harmful_caught": rate_cell(int((flagged & harmful).sum()), int(harmful.sum())),
        "benign_passed": rate_cell(int((~flagged & benign).sum()), int(benign.sum())),
    }


def language_table(data: Rows, p: Float, threshold: float) -> dict[str, Any]:
    """Per language: harmful caught and benign passed at ``threshold`` (rows with a score)."""
    out = {}
    for lang in sorted(set(data.lang.tolist()), key=lambda c: (c not in LANGUAGES, c)):
        rows = (data.lang == lang) & ~np.isnan(p)
        out[lang] = _cell(p[rows] >= threshold, data.y[rows])
    return out


def source_table(data: Rows, p: Float, threshold: float) -> dict[str, Any]:
    """Per language: the overall cell, every source's cell and the worst source's catch."""
    out: dict[str, Any] = {}
    for lang, overall in language_table(data, p, threshold).items():
        by_source = {}
        for source in sorted(set(data.source[data.lang == lang].tolist())):
            rows = (data.lang == lang) & (data.source == source) & ~np.isnan(p)
            by_source[source] = _cell(p[rows] >= threshold, data.y[rows])
        ranked = [
            (cell["harmful_caught"]["rate"], name)
            for name, cell in by_source.items()
            if cell["harmful_caught"]["n"] >= MIN_SOURCE_HARMFUL
        ]
        worst = min(ranked) if ranked else None
        out[lang] = {
            **overall,
            "worst_source": {"source": worst[1], "harmful_caught": worst[0]} if worst else None,
            "by_source": by_source,
        }
    return out
