"""Quality numbers of the response classifier, per split and per source.

Refusal is measured two ways: ``decline`` (the reply refuses at least in part: refusal or
partial, vs compliance; pyrit's human labels mean this) and ``full_refusal`` (a full
refusal vs anything else, on rows whose 3-way kind is known). The 3-way kind gets
macro-F1 and a confusion matrix; the harmful head gets AUROC, F1, catch and pass rates at
the operating threshold, and the expected calibration error.
"""

from __future__ import annotations

from typing import Any, Final

import numpy as np
import numpy.typing as npt

from bastion.models.response_classifier import KINDS
from bastion.training.response_data import ResponseExample

__all__ = ["EVAL_SPLITS", "auroc", "binary_scores", "evaluate_responses", "reliability"]

EVAL_SPLITS: Final = ("dev", "test", "ood")
"""``ood``: pyrit's human-labelled refusal set, never trained or tuned on."""
Float = npt.NDArray[np.float64]
Int = npt.NDArray[np.int64]


def _r(value: float) -> float:
    return round(float(value), 4)


def binary_scores(pred: npt.NDArray[np.bool_], y: Int) -> dict[str, Any]:
    """Precision, recall, F1 and accuracy of boolean predictions against 0/1 labels."""
    tp = int((pred & (y == 1)).sum())
    fp = int((pred & (y == 0)).sum())
    fn = int((~pred & (y == 1)).sum())
    precision = tp / (tp + fp) if tp + fp else None
    recall = tp / (tp + fn) if tp + fn else None
    f1 = 2 * tp / (2 * tp + fp + fn) if tp + fn else None  # undefined without positives
    return {
        "precision": None if precision is None else _r(precision),
        "recall": None if recall is None else _r(recall),
        "f1": None if f1 is None else _r(f1),
        "accuracy": _r((pred == (y == 1)).mean()) if len(y) else None,
        "n": len(y),
        "n_positive": int((y == 1).sum()),
    }


def auroc(p: Float, y: Int) -> float | None:
    """Area under the ROC curve by the rank-sum formula (ties get mid ranks)."""
    pos, neg = int((y == 1).sum()), int((y == 0).sum())
    if not pos or not neg:
        return None
    order = np.argsort(p, kind="stable")
    ranks = np.empty(len(p))
    sorted_p = p[order]
    ranks[order] = np.arange(1, len(p) + 1)
    for value in np.unique(sorted_p):
        tied = p == value
        ranks[tied] = ranks[tied].mean()
    return _r((ranks[y == 1].sum() - pos * (pos + 1) / 2) / (pos * neg))


def reliability(p: Float, y: Int, bins: int = 10) -> list[dict[str, float]]:
    """Per probability bin: mean prediction, observed positive share, count."""
    edges = np.linspace(0.0, 1.0, bins + 1)
    index = np.clip(np.digitize(p, edges[1:-1]), 0, bins - 1)
    return [
        {"mean_p": float(p[m].mean()), "observed": float(y[m].mean()), "n": float(m.sum())}
        for m in (index == k for k in range(bins))
        if m.any()
    ]


def _ece(p: Float, y: Int) -> float | None:
    if not len(p):
        return None
    return _r(sum(b["n"] / len(p) * abs(b["mean_p"] - b["observed"]) for b in reliability(p, y)))


def _kind_metrics(kind_probs: Float, kinds: list[str | None]) -> dict[str, Any]:
    rows = [i for i, k in enumerate(kinds) if k in KINDS]
    if not rows:
        return {"n": 0}
    truth = np.asarray([KINDS.index(str(kinds[i])) for i in rows])
    pred = np.argmax(kind_probs[rows], axis=1)
    matrix = np.zeros((3, 3), dtype=int)
    for t, q in zip(truth, pred, strict=True):
        matrix[t, q] += 1
    f1s = [binary_scores(pred == k, (truth == k).astype(np.int64))["f1"] for k in range(3)]
    present = [f for k, f in enumerate(f1s) if f is not None and (truth == k).any()]
    full = binary_scores(pred == 0, (truth == 0).astype(np.int64))
    return {
        "n": len(rows),
        "macro_f1": _r(np.mean(present)) if len(present) > 1 else None,  # one class: n/a
        "per_class_f1": dict(zip(KINDS, f1s, strict=True)),
        "confusion": {"labels": list(KINDS), "rows_true_cols_pred": matrix.tolist()},
        "full_refusal": full,
    }


def _harm_metrics(p: Float, y: Int, threshold: float) -> dict[str, Any]:
    known = y >= 0
    p, y = p[known], y[known]
    flagged = p >= threshold
    return {
        "auroc": auroc(p, y),
        "ece": _ece(p, y),
        "at_threshold": binary_scores(flagged, y),
        "catch_rate": _r(flagged[y == 1].mean()) if (y == 1).any() else None,
        "pass_rate": _r((~flagged[y == 0]).mean()) if (y == 0).any() else None,
    }


def _subset(
    rows: Int, examples: list[ResponseExample], probs: dict[str, Float], threshold: float
) -> dict[str, Any]:
    declines = np.asarray(
        [-1 if examples[i].declines is None else examples[i].declines for i in rows],
        dtype=np.int64,
    )
    known = declines >= 0
    harmful = np.asarray(
        [-1 if examples[i].harmful is None else examples[i].harmful for i in rows], dtype=np.int64
    )
    return {
        "n": len(rows),
        "decline": binary_scores(probs["decline"][rows][known] >= 0.5, declines[known]),
        "decline_auroc": auroc(probs["decline"][rows][known], declines[known]),
        "kind": _kind_metrics(probs["kind"][rows], [examples[i].kind for i in rows]),
        "harmful": _harm_metrics(probs["harmful"][rows], harmful, threshold),
    }


def _category_accuracy(
    rows: Int, examples: list[ResponseExample], scores: Float, categories: tuple[str, ...]
) -> dict[str, Any]:
    keep = [i for i in rows if examples[i].harmful == 1 and examples[i].category in categories]
    if not keep or not categories:
        return {"accuracy": None, "n": 0}
    predicted = [categories[int(k)] for k in np.argmax(scores[keep], axis=1)]
    right = sum(p == examples[i].category for p, i in zip(predicted, keep, strict=True))
    return {"accuracy": _r(right / len(keep)), "n": len(keep)}


def evaluate_responses(
    examples: list[ResponseExample],
    probs: dict[str, Float],
    threshold: float,
    categories: tuple[str, ...],
) -> dict[str, Any]:
    """Metrics per evaluation split, and per source within it."""
    split = np.asarray([e.split for e in examples])
    source = np.asarray([e.source for e in examples])
    out: dict[str, Any] = {}
    for name in EVAL_SPLITS:
        rows = np.flatnonzero(split == name)
        entry = _subset(rows, examples, probs, threshold)
        entry["per_source"] = {
            s: _subset(rows[source[rows] == s], examples, probs, threshold)
            for s in sorted(set(source[rows].tolist()))
        }
        entry["category_head"] = _category_accuracy(rows, examples, probs["category"], categories)
        out[name] = entry
    return out
