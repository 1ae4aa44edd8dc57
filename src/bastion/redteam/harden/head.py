"""The attack head: a second prompt-classifier head, fitted on the red-team rows.

The shipped classifier's fine-tuned encoder maps a harmful request inside an attack
wrapper and its benign look-alike close together: a linear head over it separates this
loop's bypasses from their look-alikes at 60-89 % accuracy, against 92-98 % over the
packaged, not fine-tuned MiniLM (design note 0029). So the hardened guard keeps the
shipped classifier as it is and adds a second ``prompt_classifier`` layer whose head reads
the packaged MiniLM, trained on the red-team rows (bypasses unsafe, look-alikes safe)
against the base set's benign ``train`` prompts. The base set is embedded once (cached
on disk), so a round costs one logistic regression. Fitting reuses
:func:`bastion.training.fit.fit_heads` unchanged; its threshold is chosen for
over-refusal: flag at most ``fp_budget`` of the base dev split's benign prompts.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, Protocol

import numpy as np
import numpy.typing as npt

from bastion.core.errors import ConfigError
from bastion.models.prompt_classifier import ARTIFACT_FORMAT, METADATA_FILE, WEIGHTS_FILE
from bastion.redteam.harden.examples import HardenExample
from bastion.training.data import Example
from bastion.training.fit import fit_heads, fit_platt, rates

__all__ = [
    "EXAMPLE_WEIGHT",
    "FP_BUDGET",
    "BaseSet",
    "Encoder",
    "HeadFit",
    "embed_cached",
    "fit_head",
    "write_artifact",
]

EXAMPLE_WEIGHT: Final = 3.0
"""Sample weight of a red-team row (the contrast set's weight in base training)."""
FP_BUDGET: Final = 0.01
"""Share of the base dev split's benign prompts the attack head may flag."""

Float = npt.NDArray[np.float64]


class Encoder(Protocol):
    """Turns texts into unit-length embeddings (the artifact's own encoder, or a fake)."""

    def encode(self, texts: Sequence[str], batch_size: int = 32) -> npt.NDArray[np.float32]:
        """Shape ``(len(texts), dim)``."""
        ...


def embed_cached(encoder: Encoder, texts: Sequence[str], cache: Path | None, tag: str) -> Float:
    """Embeddings of ``texts``, read from ``cache/<hash>.npy`` when an earlier call wrote it.

    The file name hashes ``tag`` (say which encoder) and every text, so a changed encoder
    or data set never reads stale vectors.
    """
    digest = hashlib.sha256(tag.encode())
    for text in texts:
        digest.update(text.encode("utf-8", "replace") + b"\x00")
    file = cache / f"embeddings-{digest.hexdigest()[:24]}.npy" if cache else None
    if file is not None and file.is_file():
        return np.asarray(np.load(file, allow_pickle=False), dtype=np.float64)
    parts = [encoder.encode(list(texts[i : i + 256])) for i in range(0, len(texts), 256)]
    x = np.concatenate(parts, axis=0).astype(np.float64) if parts else np.zeros((0, 384))
    if file is not None:
        file.parent.mkdir(parents=True, exist_ok=True)
        np.save(file, x.astype(np.float32), allow_pickle=False)
    return x


@dataclass(frozen=True, slots=True)
class BaseSet:
    """The base training set (``train`` and ``dev`` rows only) and its embeddings."""

    examples: tuple[Example, ...]
    x: Float

    def __post_init__(self) -> None:
        if len(self.examples) != self.x.shape[0]:
            raise ConfigError("base set: embeddings do not match the examples")

    @classmethod
    def embed(
        cls, examples: Sequence[Example], encoder: Encoder, cache: Path | None, tag: str
    ) -> BaseSet:
        """Keep the train and dev rows (test rows are never trained or calibrated on) and
        embed them (through the cache)."""
        rows = tuple(e for e in examples if e.split in ("train", "dev"))
        return cls(rows, embed_cached(encoder, [e.text for e in rows], cache, tag))


@dataclass(frozen=True, slots=True)
class HeadFit:
    """A refitted head: weights, calibration, operating point, and dev rates."""

    arrays: dict[str, npt.NDArray[np.float32]]
    categories: tuple[str, ...]
    platt: tuple[float, float]
    threshold: float
    rule: str
    dev: dict[str, Any]
    n_examples: int


def _rows(
    base: BaseSet, extra: Sequence[HardenExample], extra_x: Float, keep: npt.NDArray[np.bool_]
) -> tuple[Float, npt.NDArray[np.int64], Float, list[str | None]]:
    """``(x, y, weights, categories)``: the kept base rows, then every red-team row."""
    kept = [e for e, k in zip(base.examples, keep, strict=True) if k]
    x = np.vstack([base.x[keep], extra_x]) if len(extra) else base.x[keep]
    y = np.asarray([e.label for e in kept] + [e.label for e in extra], dtype=np.int64)
    w = np.asarray([e.weight for e in kept] + [EXAMPLE_WEIGHT] * len(extra))
    cats = [e.category for e in kept] + [e.category for e in extra]
    return x, y, w, cats


def _logit(p: float) -> float:
    p = min(max(p, 1e-6), 1 - 1e-6)
    return float(np.log(p / (1 - p)))


def fit_head(
    base: BaseSet,
    extra: Sequence[HardenExample],
    extra_x: Float,
    *,
    fp_budget: float = FP_BUDGET,
    align_to: float | None = None,
    seed: int = 0,
) -> HeadFit:
    """Fit the attack head: red-team rows against the base set's benign ``train`` rows
    (its category head: red-team rows and every base ``train`` row).

    Platt scaling is fitted on every base ``dev`` row; the operating threshold is the
    ``1 - fp_budget`` quantile of the benign dev rows' probabilities (at most that share
    of plain benign prompts flagged). With ``align_to``, the calibration is shifted so the
    threshold becomes ``align_to`` (the shipped classifier's), so every classifier layer
    of a hardened guard reports scores on one scale (each layer has its own name and
    threshold, design note 0039; the alignment changes scores, not decisions).
    """
    split = np.asarray([e.split for e in base.examples])
    y_base = np.asarray([e.label for e in base.examples], dtype=np.int64)
    heads = fit_heads(*_rows(base, extra, extra_x, (split == "train") & (y_base == 0)), seed)
    # The category head learns from every base train row too (it only says which
    # category an unsafe prompt is in, and the red-team rows alone may be too few).
    by_category = fit_heads(*_rows(base, extra, extra_x, split == "train"), seed)
    if not by_category.categories:
        raise ConfigError("no category has enough unsafe training rows for the category head")
    dev = split == "dev"
    logits = base.x[dev] @ heads.w_unsafe + heads.b_unsafe
    a, b = fit_platt(logits, y_base[dev])
    p = 1.0 / (1.0 + np.exp(-(a * logits + b)))
    threshold = float(np.quantile(p[y_base[dev] == 0], 1.0 - fp_budget))
    rule = f"benign_dev_fpr<={fp_budget:.3f}"
    if align_to is not None:
        b += _logit(align_to) - _logit(threshold)
        p = 1.0 / (1.0 + np.exp(-(a * logits + b)))
        threshold, rule = align_to, rule + f", aligned to {align_to:.4f}"
    arrays = {
        "w_unsafe": heads.w_unsafe.astype(np.float32),
        "b_unsafe": np.asarray([heads.b_unsafe], dtype=np.float32),
        "w_category": by_category.w_category.astype(np.float32),
        "b_category": by_category.b_category.astype(np.float32),
    }
    dev_rates = rates(p, y_base[dev], threshold)
    rows = int((split == "train").sum()) + len(extra)
    return HeadFit(arrays, by_category.categories, (a, b), threshold, rule, dev_rates, rows)


def write_artifact(
    out: Path, fit: HeadFit, encoder: dict[str, Any], provenance: dict[str, Any]
) -> Path:
    """Write ``weights.npz`` and ``metadata.json`` of a prompt classifier artifact to ``out``.

    ``encoder`` is the ``metadata["encoder"]`` block: its ``file`` may be an absolute
    path (round artifacts share the shipped encoder) or a name inside ``out``.
    """
    out.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(out / WEIGHTS_FILE, **fit.arrays)  # type: ignore[arg-type]
    metadata = {
        "format": ARTIFACT_FORMAT,
        "categories": list(fit.categories),
        "calibration": {
            "method": "platt",
            "platt_a": fit.platt[0],
            "platt_b": fit.platt[1],
            "fitted_on": "dev",
        },
        "threshold": fit.threshold,
        "threshold_rule": fit.rule,
        "encoder": encoder,
        "card_title": "bastion prompt classifier, hardened by `bastion harden`",
        "harden": {**provenance, "dev": fit.dev, "rows": fit.n_examples},
    }
    text = json.dumps(metadata, indent=2, sort_keys=True, ensure_ascii=False)
    (out / METADATA_FILE).write_text(text + "\n", encoding="utf-8")
    return out
