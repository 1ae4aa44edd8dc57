"""Fitting the response classifier heads, calibrating them, choosing the harmful threshold.

- Heads ``decline`` (refusal or partial vs compliance), ``full`` (refusal vs partial, on
  declines whose kind is known) and ``harmful``: L2 logistic regression on ``train`` rows
  whose label is known, balanced class weights times source-balanced sample weights
  (every source gets the same total weight within a head, capped at :data:`MAX_WEIGHT` per
  row, so 2,400 benign answers do not drown 60 human-labelled pyrit rows).
- Calibration: Platt scaling of each head's logit on ``dev`` rows with a known label.
- Category head: one-vs-rest logistic regression over harmful ``train`` rows with a policy
  category, for categories with at least :data:`MIN_CATEGORY_EXAMPLES` of them.
- Harmful threshold (:func:`choose_harm_threshold`), on ``dev``, source-balanced rates
  (the mean over sources of each source's rate; sources with fewer than
  :data:`MIN_SOURCE_ROWS` rows of a class pooled into one): the lowest threshold that
  still passes at least ``target_pass`` of harmless replies, if it catches at least
  ``target_catch`` of harmful ones (rule ``pass>=P``); otherwise the highest threshold that catches
  ``target_catch`` (rule ``catch>=C``: safety first, the pass target is missed).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt

from bastion.models.response_classifier import HEADS
from bastion.training.response_data import ResponseExample

__all__ = [
    "MAX_WEIGHT",
    "MIN_CATEGORY_EXAMPLES",
    "MIN_SOURCE_ROWS",
    "HeadInputs",
    "Operating",
    "ResponseHeads",
    "balanced_rates",
    "choose_harm_threshold",
    "fit_response_heads",
    "harm_tradeoff",
    "head_inputs",
]

MIN_CATEGORY_EXAMPLES: Final = 10
MAX_WEIGHT: Final = 5.0
MIN_SOURCE_ROWS: Final = 20
_C: Final = 4.0  # inverse L2 strength (unit-length embeddings: mild regularisation)
_UNKNOWN: Final = -1

Float = npt.NDArray[np.float64]
Int = npt.NDArray[np.int64]


@dataclass(frozen=True, slots=True)
class HeadInputs:
    """Per-example arrays the heads train on; ``-1`` marks an unknown label."""

    split: npt.NDArray[np.str_]
    source: npt.NDArray[np.str_]
    labels: dict[str, Int]
    categories: tuple[str | None, ...]
    weights: Float


def _label(example: ResponseExample, head: str) -> int:
    if head == "decline":
        value = example.declines
    elif head == "full":
        value = {"refusal": 1, "partial": 0}.get(example.kind or "")
    else:
        value = example.harmful
    return _UNKNOWN if value is None else int(value)


def head_inputs(examples: list[ResponseExample]) -> HeadInputs:
    """Labels per head, splits, sources and base sample weights of ``examples``."""
    return HeadInputs(
        split=np.asarray([e.split for e in examples]),
        source=np.asarray([e.source for e in examples]),
        labels={h: np.asarray([_label(e, h) for e in examples], dtype=np.int64) for h in HEADS},
        categories=tuple(e.category for e in examples),
        weights=np.asarray([e.weight for e in examples], dtype=np.float64),
    )


def _source_balanced(source: npt.NDArray[np.str_], rows: Int) -> Float:
    """Weights giving each source the same total over ``rows`` (capped per row)."""
    names, counts = np.unique(source[rows], return_counts=True)
    share = dict(zip(names.tolist(), counts.tolist(), strict=True))
    mean = len(rows) / len(share)
    return np.asarray([min(mean / share[s], MAX_WEIGHT) for s in source[rows]])


@dataclass(frozen=True, slots=True)
class ResponseHeads:
    """Fitted weights, Platt parameters and the category head."""

    weights: dict[str, Float]
    biases: dict[str, float]
    platt: dict[str, tuple[float, float]]
    categories: tuple[str, ...]
    w_category: Float
    b_category: Float

    def logits(self, head: str, x: Float) -> Float:
        """Uncalibrated logits of one head."""
        return np.asarray(x @ self.weights[head] + self.biases[head], dtype=np.float64)

    def probabilities(self, xs: dict[str, Float]) -> dict[str, Float]:
        """Calibrated probability per head (``xs``: each head's feature rows), plus
        ``kind`` (n, 3) and ``category`` scores."""
        out = {}
        for head in HEADS:
            a, b = self.platt[head]
            out[head] = _sigmoid(a * self.logits(head, xs[head]) + b)
        d, f = out["decline"], out["full"]
        out["kind"] = np.stack([d * f, d * (1.0 - f), 1.0 - d], axis=1)
        out["category"] = _sigmoid(xs["category"] @ self.w_category.T + self.b_category)
        return out


def _sigmoid(z: Float) -> Float:
    return np.asarray(0.5 * (1.0 + np.tanh(0.5 * z)), dtype=np.float64)  # overflow-free


def _logistic(x: Float, y: Int, weights: Float, seed: int) -> tuple[Float, float]:
    from sklearn.linear_model import LogisticRegression

    balance = {v: len(y) / (2.0 * max(int((y == v).sum()), 1)) for v in (0, 1)}
    sw = weights * np.asarray([balance[int(v)] for v in y])
    model = LogisticRegression(C=_C, max_iter=3000, random_state=seed)
    model.fit(x, y, sample_weight=sw)
    return model.coef_[0].astype(np.float64), float(model.intercept_[0])


def _platt(logits: Float, y: Int) -> tuple[float, float]:
    if len(set(y.tolist())) < 2:
        return 1.0, 0.0
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression(C=1e6, max_iter=2000)
    model.fit(logits.reshape(-1, 1), y)
    return float(model.coef_[0][0]), float(model.intercept_[0])


def _rows(inputs: HeadInputs, head: str, split: str) -> Int:
    return np.flatnonzero((inputs.split == split) & (inputs.labels[head] != _UNKNOWN))


def _category_head(x: Float, inputs: HeadInputs, seed: int) -> tuple[tuple[str, ...], Float, Float]:
    from sklearn.linear_model import LogisticRegression

    harmful = (inputs.split == "train") & (inputs.labels["harmful"] == 1)
    rows = np.asarray([i for i in np.flatnonzero(harmful) if inputs.categories[i]], dtype=int)
    names = [inputs.categories[i] for i in rows]
    kept = tuple(sorted(c for c in set(names) if c and names.count(c) >= MIN_CATEGORY_EXAMPLES))
    w, b = np.zeros((len(kept), x.shape[1])), np.zeros(len(kept))
    for k, name in enumerate(kept):
        target = np.asarray([n == name for n in names], dtype=np.int64)
        if target.min() == target.max():
            continue  # one category only: zero weights, it is always the top one
        head = LogisticRegression(C=_C, max_iter=3000, class_weight="balanced", random_state=seed)
        head.fit(x[rows], target)
        w[k], b[k] = head.coef_[0], head.intercept_[0]
    return kept, w, b


def fit_response_heads(xs: dict[str, Float], inputs: HeadInputs, seed: int) -> ResponseHeads:
    """Fit every head on ``train``, calibrate each on ``dev`` (see the module docstring).

    ``xs`` holds each head's feature rows (keys: the heads and ``category``).
    """
    weights, biases, platt = {}, {}, {}
    for head in HEADS:
        x = xs[head]
        train = _rows(inputs, head, "train")
        sw = inputs.weights[train] * _source_balanced(inputs.source, train)
        weights[head], biases[head] = _logistic(x[train], inputs.labels[head][train], sw, seed)
        dev = _rows(inputs, head, "dev")
        logits = x[dev] @ weights[head] + biases[head]
        platt[head] = _platt(logits, inputs.labels[head][dev])
    kept, w_cat, b_cat = _category_head(xs["category"], inputs, seed)
    return ResponseHeads(weights, biases, platt, kept, w_cat, b_cat)


@dataclass(frozen=True, slots=True)
class Operating:
    """The chosen harmful threshold, the rule that chose it and its dev rates."""

    threshold: float
    rule: str
    catch: float
    passed: float


def balanced_rates(
    p: Float, y: Int, source: npt.NDArray[np.str_], threshold: float
) -> tuple[float, float]:
    """Source-balanced (catch of ``y == 1``, pass of ``y == 0``) at ``threshold``."""
    flags: dict[int, dict[str, list[bool]]] = {0: defaultdict(list), 1: defaultdict(list)}
    for score, label, name in zip(p, y, source, strict=True):
        flags[int(label)][str(name)].append(bool(score >= threshold))
    catch = [float(np.mean(v)) for v in _pooled(flags[1]).values()]
    passed = [1.0 - float(np.mean(v)) for v in _pooled(flags[0]).values()]
    return (float(np.mean(catch)) if catch else 0.0, float(np.mean(passed)) if passed else 1.0)


def _pooled(groups: dict[str, list[bool]]) -> dict[str, list[bool]]:
    """Sources with fewer than :data:`MIN_SOURCE_ROWS` rows share one group: a rate over
    three rows would otherwise weigh as much as one over three hundred."""
    out: dict[str, list[bool]] = defaultdict(list)
    for name, flags in groups.items():
        out[name if len(flags) >= MIN_SOURCE_ROWS else "(small sources)"].extend(flags)
    return out


def choose_harm_threshold(
    p: Float, inputs: HeadInputs, target_catch: float, target_pass: float
) -> Operating:
    """The harmful operating point on ``dev`` (see the module docstring)."""
    rows = _rows(inputs, "harmful", "dev")
    y, score, source = inputs.labels["harmful"][rows], p[rows], inputs.source[rows]
    if not (y == 1).any():
        return Operating(0.5, "no_harmful_dev_data", 0.0, 1.0)
    grid = np.unique(np.round(score, 6))
    rates = [(float(t), *balanced_rates(score, y, source, float(t))) for t in grid]
    passing = [r for r in rates if r[2] >= target_pass]
    if passing and passing[0][1] >= target_catch:
        t, catch, passed = passing[0]
        return Operating(t, f"pass>={target_pass:.2f}", catch, passed)
    catching = [r for r in rates if r[1] >= target_catch]
    t, catch, passed = catching[-1]
    return Operating(t, f"catch>={target_catch:.2f}", catch, passed)


def harm_tradeoff(
    p: Float, inputs: HeadInputs, catches: tuple[float, ...] = (0.8, 0.85, 0.9, 0.95)
) -> list[dict[str, float]]:
    """On ``dev``: for each source-balanced catch target, the highest threshold reaching it
    and the source-balanced pass rate of harmless replies there (for the card)."""
    rows = _rows(inputs, "harmful", "dev")
    y, score, source = inputs.labels["harmful"][rows], p[rows], inputs.source[rows]
    if not (y == 1).any():
        return []
    grid = np.unique(np.round(score, 6))
    rates = [(float(t), *balanced_rates(score, y, source, float(t))) for t in grid]
    out = []
    for target in catches:
        reaching = [r for r in rates if r[1] >= target]
        if reaching:
            t, catch, passed = reaching[-1]
            out.append({"target_catch": target, "threshold": t, "catch": catch, "pass": passed})
    return out
