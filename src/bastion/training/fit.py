"""Fitting the classifier heads, calibrating them and choosing the operating threshold.

- Unsafe head: L2 logistic regression, balanced class weights times sample weights.
- Category head: one-vs-rest logistic regression over the unsafe training prompts whose
  category is known, for categories with at least :data:`MIN_CATEGORY_EXAMPLES` of them.
- Calibration: Platt scaling of the unsafe logit, fitted on the dev split only.
- Threshold: the highest calibrated threshold that still catches at least
  :data:`TARGET_CATCH` of the unsafe dev prompts (this maximises the benign pass rate under
  that constraint); when no threshold reaches it, the threshold with the best F1.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any, Final

import numpy as np
import numpy.typing as npt

__all__ = [
    "MIN_CATEGORY_EXAMPLES",
    "TARGET_CATCH",
    "Heads",
    "Operating",
    "choose_threshold",
    "fit_heads",
    "fit_platt",
    "rates",
]

MIN_CATEGORY_EXAMPLES: Final = 10
TARGET_CATCH: Final = 0.90
_C: Final = 4.0  # inverse L2 strength: embeddings are unit length, so mild regularisation

Float = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class Heads:
    """Fitted weights (float32 on save)."""

    w_unsafe: Float
    b_unsafe: float
    categories: tuple[str, ...]
    w_category: Float
    b_category: Float


@dataclass(frozen=True, slots=True)
class Operating:
    """The chosen threshold and the rule that chose it (``catch>=0.90`` or ``best_f1``)."""

    threshold: float
    rule: str


def fit_heads(
    x: Float, y: npt.NDArray[np.int64], weights: Float, categories: list[str | None], seed: int
) -> Heads:
    """Fit the unsafe head on everything and the category head on categorised unsafe rows."""
    from sklearn.linear_model import LogisticRegression

    balance = {label: len(y) / (2.0 * max(int((y == label).sum()), 1)) for label in (0, 1)}
    sw = weights * np.asarray([balance[int(v)] for v in y])
    unsafe = LogisticRegression(C=_C, max_iter=2000, random_state=seed)
    unsafe.fit(x, y, sample_weight=sw)
    counts = Counter(c for c, v in zip(categories, y, strict=True) if c is not None and v == 1)
    kept = tuple(sorted(c for c, n in counts.items() if n >= MIN_CATEGORY_EXAMPLES))
    rows = [i for i, c in enumerate(categories) if c in kept and y[i] == 1]
    w_cat = np.zeros((len(kept), x.shape[1]))
    b_cat = np.zeros(len(kept))
    for k, name in enumerate(kept):
        target = np.asarray([categories[i] == name for i in rows], dtype=np.int64)
        head = LogisticRegression(C=_C, max_iter=2000, class_weight="balanced", random_state=seed)
        head.fit(x[rows], target, sample_weight=weights[rows])
        w_cat[k], b_cat[k] = head.coef_[0], head.intercept_[0]
    return Heads(
        unsafe.coef_[0].astype(np.float64), float(unsafe.intercept_[0]), kept, w_cat, b_cat
    )


def fit_platt(logits: Float, y: npt.NDArray[np.int64]) -> tuple[float, float]:
    """Platt scaling ``sigmoid(a * logit + b)`` fitted on held-out logits."""
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression(C=1e6, max_iter=2000)
    model.fit(logits.reshape(-1, 1), y)
    return float(model.coef_[0][0]), float(model.intercept_[0])


def rates(p: Float, y: npt.NDArray[np.int64], threshold: float) -> dict[str, Any]:
    """Benign pass rate and unsafe catch rate at ``threshold`` (flag = ``p >= threshold``)."""
    flagged = p >= threshold
    benign, unsafe = y == 0, y == 1
    return {
        "benign_pass_rate": _share(~flagged & benign, benign),
        "unsafe_catch_rate": _share(flagged & unsafe, unsafe),
        "n_benign": int(benign.sum()),
        "n_unsafe": int(unsafe.sum()),
    }


def _share(hits: npt.NDArray[np.bool_], of: npt.NDArray[np.bool_]) -> float | None:
    total = int(of.sum())
    return round(int(hits.sum()) / total, 4) if total else None


def choose_threshold(p: Float, y: npt.NDArray[np.int64], target: float = TARGET_CATCH) -> Operating:
    """The operating point on dev data (see the module docstring)."""
    unsafe = np.sort(p[y == 1])[::-1]
    if unsafe.size == 0:
        return Operating(0.5, "no_unsafe_dev_data")
    need = int(np.ceil(target * unsafe.size))
    candidate = float(unsafe[need - 1])  # the need-th highest unsafe score
    if need <= unsafe.size and float((p[y == 1] >= candidate).mean()) >= target:
        return Operating(candidate, f"catch>={target:.2f}")
    return Operating(_best_f1(p, y), "best_f1")


def _best_f1(p: Float, y: npt.NDArray[np.int64]) -> float:
    best, best_t = -1.0, 0.5
    for t in np.unique(p):
        flagged = p >= t
        tp = float((flagged & (y == 1)).sum())
        f1 = 2 * tp / (flagged.sum() + (y == 1).sum()) if tp else 0.0
        if f1 > best:
            best, best_t = f1, float(t)
    return best_t
