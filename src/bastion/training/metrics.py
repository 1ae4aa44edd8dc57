"""Quality numbers for the card and report: both sides of every trade-off, per split."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import numpy as np
import numpy.typing as npt

from bastion.training.data import Example
from bastion.training.fit import rates

__all__ = ["EVAL_SPLITS", "evaluate", "expected_calibration_error", "reliability"]

EVAL_SPLITS = ("dev", "test", "contrast_test")
Float = npt.NDArray[np.float64]


def reliability(p: Float, y: npt.NDArray[np.int64], bins: int = 10) -> list[dict[str, float]]:
    """Per probability bin: mean prediction, observed unsafe share, count."""
    edges = np.linspace(0.0, 1.0, bins + 1)
    index = np.clip(np.digitize(p, edges[1:-1]), 0, bins - 1)
    out = []
    for k in range(bins):
        mask = index == k
        if mask.any():
            out.append(
                {
                    "mean_p": float(p[mask].mean()),
                    "observed": float(y[mask].mean()),
                    "n": float(mask.sum()),
                }
            )
    return out


def expected_calibration_error(p: Float, y: npt.NDArray[np.int64]) -> float:
    """ECE over ten equal-width bins."""
    total = len(p)
    return round(
        sum(b["n"] / total * abs(b["mean_p"] - b["observed"]) for b in reliability(p, y)), 4
    )


def _auroc(p: Float, y: npt.NDArray[np.int64]) -> float | None:
    if len(set(y.tolist())) < 2:
        return None
    from sklearn.metrics import roc_auc_score

    return round(float(roc_auc_score(y, p)), 4)


def _split_metrics(p: Float, y: npt.NDArray[np.int64], threshold: float) -> dict[str, Any]:
    return {
        "at_threshold": rates(p, y, threshold),
        "at_0.5": rates(p, y, 0.5),
        "auroc": _auroc(p, y),
        "ece": expected_calibration_error(p, y) if len(p) else None,
    }


def _per_group(
    examples: list[Example], p: Float, threshold: float, key: str
) -> dict[str, dict[str, Any]]:
    groups: dict[str, list[int]] = defaultdict(list)
    for i, e in enumerate(examples):
        if e.split in ("test", "contrast_test"):
            name = e.source if key == "source" else (e.category or "unknown")
            if key == "source" or e.label == 1:
                groups[f"{name}/{'unsafe' if e.label else 'safe'}"].append(i)
    out = {}
    for name, rows in sorted(groups.items()):
        flagged = p[rows] >= threshold
        out[name] = {"flagged_rate": round(float(flagged.mean()), 4), "n": len(rows)}
    return out


def _category_accuracy(
    examples: list[Example], cat_scores: Float, categories: tuple[str, ...]
) -> dict[str, Any]:
    rows = [
        i
        for i, e in enumerate(examples)
        if e.split in ("test", "contrast_test") and e.label == 1 and e.category in categories
    ]
    if not rows or not categories:
        return {"accuracy": None, "n": 0}
    predicted = [categories[int(k)] for k in np.argmax(cat_scores[rows], axis=1)]
    right = sum(pred == examples[i].category for pred, i in zip(predicted, rows, strict=True))
    return {"accuracy": round(right / len(rows), 4), "n": len(rows)}


def evaluate(
    examples: list[Example],
    p: Float,
    threshold: float,
    cat_scores: Float,
    categories: tuple[str, ...],
) -> dict[str, Any]:
    """Metrics per evaluation split, per source and per category (test splits only)."""
    split = np.asarray([e.split for e in examples])
    y = np.asarray([e.label for e in examples], dtype=np.int64)
    out: dict[str, Any] = {
        name: _split_metrics(p[split == name], y[split == name], threshold) for name in EVAL_SPLITS
    }
    out["per_source"] = _per_group(examples, p, threshold, "source")
    out["per_category"] = _per_group(examples, p, threshold, "category")
    out["category_head"] = _category_accuracy(examples, cat_scores, categories)
    return out
