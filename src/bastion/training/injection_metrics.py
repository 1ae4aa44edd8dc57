"""The injection detector's operating point and quality numbers, per split and per source.

Every rate is given two ways: *pooled* (over all texts of a split) and *macro* (the mean
over sources with at least :data:`MIN_GROUP` texts of that class, the smaller ones pooled
as ``other``), because one corpus (S-Labs) holds half of all texts: a threshold that looks
fine pooled can still over-flag the small, hard sources (hard negatives, clean documents),
so the per-source rates are reported beside them.

Operating point (:func:`choose_operating_point`), on the dev split's *pooled* rates: among
thresholds that catch at least ``target_catch`` of attacks *and* pass at least
``target_pass`` of benign texts, the one with the highest catch + pass; when none meets
both, the lowest threshold that still passes ``target_pass`` of benign texts (benign pass
is kept, catch falls short and the card says so). Pooled, not macro: the smallest dev
groups (16 bastioncorpus hard negatives, some of them base64-encoded benign text) would
otherwise each weigh as much as 1,000 S-Labs texts, and one of their texts decided the
threshold (design note 0013); the macro rates and every source's rates are reported.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

import numpy as np
import numpy.typing as npt

__all__ = [
    "MIN_GROUP",
    "Operating",
    "choose_operating_point",
    "group_weights",
    "per_source",
    "split_metrics",
]

MIN_GROUP: Final = 20
Float = npt.NDArray[np.float64]
Int = npt.NDArray[np.int64]


@dataclass(frozen=True, slots=True)
class Operating:
    """The chosen threshold, the rule that chose it, and its dev macro rates."""

    threshold: float
    rule: str
    catch: float
    benign_pass: float


def group_weights(groups: Sequence[str], y: Int) -> Float:
    """Weights making every (source, label) group count equally within its label."""
    sizes = Counter(zip(groups, y.tolist(), strict=True))
    names = [
        g if sizes[(g, int(v))] >= MIN_GROUP else "other" for g, v in zip(groups, y, strict=True)
    ]
    merged = Counter(zip(names, y.tolist(), strict=True))
    w = np.asarray([1.0 / merged[(n, int(v))] for n, v in zip(names, y, strict=True)])
    for label in (0, 1):
        mask = y == label
        if mask.any():
            w[mask] /= w[mask].sum()
    return w


def _macro(p: Float, y: Int, w: Float, t: float) -> tuple[float, float]:
    flagged = p >= t
    catch = float((w * flagged)[y == 1].sum()) if (y == 1).any() else 0.0
    passed = float((w * ~flagged)[y == 0].sum()) if (y == 0).any() else 1.0
    return catch, passed


def choose_operating_point(p: Float, y: Int, target_catch: float, target_pass: float) -> Operating:
    """The operating point on dev data (see the module docstring)."""
    attacks, benign = np.sort(p[y == 1]), np.sort(p[y == 0])
    candidates = [
        (
            float(t),
            1.0 - np.searchsorted(attacks, t, side="left") / max(1, attacks.size),
            np.searchsorted(benign, t, side="left") / max(1, benign.size),
        )
        for t in np.unique(p)
    ]
    both = [c for c in candidates if c[1] >= target_catch and c[2] >= target_pass]
    if both:
        t, catch, passed = max(both, key=lambda c: (round(c[1] + c[2], 6), c[0]))
        rule = f"catch>={target_catch:.2f} and pass>={target_pass:.2f}: max catch+pass"
        return Operating(t, rule, round(catch, 4), round(passed, 4))
    keep = [c for c in candidates if c[2] >= target_pass] or [max(candidates, key=lambda c: c[2])]
    t, catch, passed = min(keep, key=lambda c: c[0])
    rule = f"pass>={target_pass:.2f} (catch target {target_catch:.2f} not reachable)"
    return Operating(t, rule, round(catch, 4), round(passed, 4))


def _auroc(p: Float, y: Int) -> float | None:
    if len(set(y.tolist())) < 2:
        return None
    from sklearn.metrics import roc_auc_score

    return round(float(roc_auc_score(y, p)), 4)


def split_metrics(p: Float, y: Int, groups: Sequence[str], threshold: float) -> dict[str, Any]:
    """AUROC, pooled and macro catch / benign pass at ``threshold``, counts."""
    flagged = p >= threshold
    catch, passed = _macro(p, y, group_weights(groups, y), threshold)
    return {
        "auroc": _auroc(p, y),
        "catch": _share(flagged[y == 1]),
        "benign_pass": _share(~flagged[y == 0]),
        "macro_catch": round(catch, 4) if (y == 1).any() else None,
        "macro_benign_pass": round(passed, 4) if (y == 0).any() else None,
        "n_attack": int((y == 1).sum()),
        "n_benign": int((y == 0).sum()),
    }


def _share(values: npt.NDArray[np.bool_]) -> float | None:
    return round(float(values.mean()), 4) if values.size else None


def per_source(
    sources: Sequence[str], p: Float, y: Int, threshold: float
) -> dict[str, dict[str, Any]]:
    """Per source and class: catch (attacks) or benign pass (benign), AUROC where both."""
    rows: dict[str, list[int]] = defaultdict(list)
    for i, name in enumerate(sources):
        rows[name].append(i)
    out = {}
    for name, idx in sorted(rows.items()):
        ps, ys = p[idx], y[idx]
        out[name] = {
            "catch": _share(ps[ys == 1] >= threshold),
            "benign_pass": _share(ps[ys == 0] < threshold),
            "auroc": _auroc(ps, ys),
            "n_attack": int((ys == 1).sum()),
            "n_benign": int((ys == 0).sum()),
        }
    return out
