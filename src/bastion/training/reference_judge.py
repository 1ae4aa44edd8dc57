"""Train the reference judge (``bastion train reference-judge``; needs the ``train`` extra).

Data: GPTFuzz's hand-labelled jailbreak replies (``responses/labelled_responses.jsonl``):
the ``train`` split only, a repeated ``(prompt, reply)`` pair once
(:func:`bastion.redteam.judge_eval.load_gptfuzz`). No guard layer trains on this file
(``tests/training/test_reference_judge_data.py`` checks every packaged artifact's data).

Model: TF-IDF of the reply (word 1-2-grams, at most 10,000; character 2-5-grams inside
word boundaries, at most 20,000; both ``min_df=2``, sublinear tf, l2 per block) and a
logistic regression. Chosen by 5-fold cross-validation grouped by question on ``train``:
the regularisation ``C`` and class weighting, then the threshold, each maximising Cohen's
kappa of the out-of-fold predictions. ``dev`` is read once, after the choice, for the
model card. Deterministic: the same data and library versions give the same weights.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import numpy as np

from bastion.core.errors import ConfigError
from bastion.redteam.judge_eval import GPTFUZZ_FILE, JudgeScore, LabelledReply, load_gptfuzz
from bastion.redteam.reference_judge import (
    ARTIFACT_FORMAT,
    METADATA_FILE,
    VOCABULARY_FILE,
    WEIGHTS_FILE,
    ReferenceJudge,
    file_sha256,
)
from bastion.training.provenance import versions, write_metadata
from bastion.training.reference_report import write_reference_card

__all__ = ["ReferenceJudgeResult", "ReferenceJudgeSettings", "train_reference_judge"]

_THRESHOLDS: Final = tuple(round(0.05 * i, 2) for i in range(1, 20))
_ZIP_TIME: Final = (1980, 1, 1, 0, 0, 0)


@dataclass(frozen=True, slots=True)
class ReferenceJudgeSettings:
    """What to train on and how.

    Attributes:
        shared_data: the shared data folder.
        out: the artifact folder to write.
        folds: cross-validation folds (grouped by question).
        c_grid: regularisation strengths tried.
        class_weights: class weightings tried (``none`` | ``balanced``).
        word_features: most word n-grams kept.
        char_features: most character n-grams kept.
    """

    shared_data: Path
    out: Path
    folds: int = 5
    c_grid: tuple[float, ...] = (1.0, 4.0, 16.0)
    class_weights: tuple[str, ...] = ("none", "balanced")
    word_features: int = 10_000
    char_features: int = 20_000

    def __post_init__(self) -> None:
        if self.folds < 2 or not self.c_grid or not self.class_weights:
            raise ConfigError("reference judge: need >= 2 folds, a C grid and class weights")

    @property
    def vectorizers(self) -> tuple[dict[str, Any], ...]:
        """The two TF-IDF blocks' settings (what :mod:`bastion.redteam._tfidf` reproduces)."""
        common = {"min_df": 2, "sublinear_tf": True, "lowercase": True, "norm": "l2"}
        specs = (
            {"analyzer": "word", "ngram_range": [1, 2], "max_features": self.word_features},
            {"analyzer": "char_wb", "ngram_range": [2, 5], "max_features": self.char_features},
        )
        return tuple({**s, **common} for s in specs)


@dataclass(frozen=True, slots=True)
class ReferenceJudgeResult:
    """Where the artifact went and what it recorded."""

    out: Path
    metadata: dict[str, Any]


def _union(settings: ReferenceJudgeSettings) -> Any:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.pipeline import FeatureUnion

    parts = []
    for spec in settings.vectorizers:
        kwargs = {k: v for k, v in spec.items() if k != "ngram_range"}
        vec = TfidfVectorizer(ngram_range=tuple(spec["ngram_range"]), **kwargs)
        parts.append((str(spec["analyzer"]), vec))
    return FeatureUnion(parts)


def _logit(c: float, weighting: str) -> Any:
    from sklearn.linear_model import LogisticRegression

    weights = None if weighting == "none" else weighting
    return LogisticRegression(C=c, class_weight=weights, max_iter=5000)


def _confusion(name: str, task: str, labels: Sequence[int], said: Sequence[Any]) -> JudgeScore:
    pairs = [(bool(s), int(y)) for s, y in zip(said, labels, strict=True)]
    tp = sum(s and y == 1 for s, y in pairs)
    fp = sum(s and y == 0 for s, y in pairs)
    fn = sum((not s) and y == 1 for s, y in pairs)
    return JudgeScore(name, task, tp, fp, fn, len(pairs) - tp - fp - fn)


def _best_threshold(labels: Sequence[int], p: np.ndarray[Any, Any]) -> float:
    """The threshold with the highest kappa (the lower one on a tie)."""
    best, chosen = -2.0, 0.5
    for t in _THRESHOLDS:
        kappa = _confusion("cv", "cv", labels, list(p >= t)).to_dict()["kappa"]
        if kappa > best:
            best, chosen = kappa, t
    return chosen


def _out_of_fold(
    settings: ReferenceJudgeSettings, rows: Sequence[LabelledReply]
) -> dict[tuple[float, str], np.ndarray[Any, Any]]:
    """Out-of-fold probabilities of every grid point (one vectorizer fit per fold)."""
    from sklearn.model_selection import GroupKFold

    texts = [r.reply for r in rows]
    y = np.array([r.label for r in rows])
    grid = [(c, w) for c in settings.c_grid for w in settings.class_weights]
    oof = {g: np.zeros(len(rows)) for g in grid}
    folds = GroupKFold(n_splits=settings.folds)
    for fit, held in folds.split(texts, y, groups=[r.prompt for r in rows]):
        union = _union(settings)
        x_fit = union.fit_transform([texts[i] for i in fit])
        x_held = union.transform([texts[i] for i in held])
        for c, w in grid:
            oof[(c, w)][held] = _logit(c, w).fit(x_fit, y[fit]).predict_proba(x_held)[:, 1]
    return oof


def _select(
    settings: ReferenceJudgeSettings, rows: Sequence[LabelledReply]
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    labels = [r.label for r in rows]
    grid: list[dict[str, Any]] = []
    for (c, w), p in _out_of_fold(settings, rows).items():
        threshold = _best_threshold(labels, p)
        cv = _confusion("reference_judge", "gptfuzz_train_cv", labels, list(p >= threshold))
        grid.append({"C": c, "class_weight": w, "threshold": threshold, "cv": cv.to_dict()})
    chosen = max(grid, key=lambda g: g["cv"]["kappa"])  # the first of equals: grid order
    return grid, chosen


def _write_npz(path: Path, arrays: dict[str, np.ndarray[Any, Any]]) -> None:
    """An ``.npz`` with fixed timestamps, so the same weights give the same bytes."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name in sorted(arrays):
            buffer = io.BytesIO()
            np.lib.format.write_array(buffer, np.ascontiguousarray(arrays[name]))
            info = zipfile.ZipInfo(f"{name}.npy", date_time=_ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, buffer.getvalue())


def _export(union: Any, model: Any, out: Path) -> dict[str, str]:
    """Write the vocabulary and the weights; their sha256 by file name."""
    coef = np.asarray(model.coef_, dtype=np.float64).reshape(-1)
    arrays: dict[str, np.ndarray[Any, Any]] = {
        "intercept": np.asarray(model.intercept_, dtype=np.float64).reshape(1)
    }
    vocabulary: dict[str, list[str]] = {}
    start = 0
    for name, vec in union.transformer_list:
        terms = sorted(vec.vocabulary_, key=vec.vocabulary_.__getitem__)
        vocabulary[name] = terms
        arrays[f"idf_{name}"] = np.asarray(vec.idf_, dtype=np.float64)
        arrays[f"coef_{name}"] = coef[start : start + len(terms)]
        start += len(terms)
    if start != coef.size:
        raise ConfigError("reference judge: the coefficients do not match the vocabularies")
    text = json.dumps(vocabulary, ensure_ascii=False, separators=(",", ":"))
    (out / VOCABULARY_FILE).write_text(text + "\n", encoding="utf-8")
    _write_npz(out / WEIGHTS_FILE, arrays)
    return {n: file_sha256(out / n) for n in (VOCABULARY_FILE, WEIGHTS_FILE)}


def _data(settings: ReferenceJudgeSettings, train: Sequence[Any], dev: Sequence[Any]) -> Any:
    path = settings.shared_data / GPTFUZZ_FILE

    def counts(rows: Sequence[LabelledReply]) -> dict[str, int]:
        positives = sum(r.label for r in rows)
        return {"rows": len(rows), "harmful": positives, "not_harmful": len(rows) - positives}

    return {
        "file": {"path": GPTFUZZ_FILE, "sha256": file_sha256(path)},
        "train": counts(train),
        "dev": counts(dev),
        "questions": {"train": len({r.prompt for r in train}), "dev": len({r.prompt for r in dev})},
    }


def _check_dev(
    out: Path, dev: Sequence[LabelledReply], expected: np.ndarray[Any, Any]
) -> tuple[float, JudgeScore]:
    """Load the written artifact with the numpy run time: its largest difference from
    scikit-learn's probabilities on ``dev``, and its score there.

    Raises:
        ConfigError: the two disagree beyond rounding.
    """
    judge = ReferenceJudge.load(out)
    got = np.array([judge.probability(r.reply) for r in dev])
    drift = float(np.max(np.abs(got - expected)))
    if drift > 1e-9:
        raise ConfigError(f"reference judge: numpy run time drifts {drift:g} from scikit-learn")
    said = list(got >= judge.threshold)
    return drift, _confusion("reference_judge", "gptfuzz_dev", [r.label for r in dev], said)


def train_reference_judge(settings: ReferenceJudgeSettings) -> ReferenceJudgeResult:
    """Choose by grouped cross-validation on ``train``, fit on all of it, write the artifact
    (``metadata.json``, ``weights.npz``, ``vocabulary.json``, ``MODEL_CARD.md``), then check
    that the numpy run time reproduces scikit-learn's probabilities on ``dev``.

    Raises:
        ConfigError: the data is missing, or the exported model disagrees with the fitted.
    """
    path = settings.shared_data / GPTFUZZ_FILE
    train, dev = load_gptfuzz(path, "train"), load_gptfuzz(path, "dev")
    if not train or not dev or len({r.label for r in train}) < 2:
        raise ConfigError(f"{path}: needs labelled train and dev rows of both classes")
    grid, chosen = _select(settings, train)
    union = _union(settings)
    model = _logit(chosen["C"], chosen["class_weight"])
    model.fit(union.fit_transform([r.reply for r in train]), [r.label for r in train])
    settings.out.mkdir(parents=True, exist_ok=True)
    files = _export(union, model, settings.out)
    expected = model.predict_proba(union.transform([r.reply for r in dev]))[:, 1]
    metadata: dict[str, Any] = {
        "format": ARTIFACT_FORMAT,
        "card_title": "bastion reference judge v1 (red-team attack success)",
        "vectorizers": list(settings.vectorizers),
        "threshold": chosen["threshold"],
        "selection": {"rule": "max out-of-fold Cohen's kappa", "folds": settings.folds},
        "grid": grid,
        "chosen": {k: chosen[k] for k in ("C", "class_weight", "threshold")},
        "data": _data(settings, train, dev),
        "files": files,
        "versions": versions(),
    }
    write_metadata(settings.out / METADATA_FILE, metadata)
    drift, dev_score = _check_dev(settings.out, dev, expected)
    metadata["metrics"] = {"cv_train": chosen["cv"], "dev": dev_score.to_dict()}
    metadata["runtime_max_abs_diff"] = drift
    write_metadata(settings.out / METADATA_FILE, metadata)
    write_reference_card(settings.out, metadata)
    return ReferenceJudgeResult(settings.out, metadata)
