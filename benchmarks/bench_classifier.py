"""Tier-1 prompt classifier: latency and quality, rules-only vs rules + classifier.

Prints one JSON object:

- ``classifier_single``: encoder + head on the whole prompt (truncated at 256 word pieces),
  one prompt at a time, one thread (p50/p99 ms).
- ``tier1_check_every_turn``: the tier-1 check as deployed: a guard with rules + the
  classifier layer on every turn (long prompts read in 126-piece windows and sentence
  chunks), one thread, 400 prompts of the shared test split (p50/p99 ms).
- ``classifier_batch_2_workers``: encoder + head over the shared test split in one call
  (length-sorted batches of 8, two batches at a time, one onnxruntime thread each, memory
  arena on as for bulk work), and
  ``classifier_batch_2_threads`` for comparison (batches of 32 in input order, one session
  with two threads). Both in prompts/s.
- ``guard_*``: the full guard (rules, then the classifier in the cascade's uncertain band
  only) on benign prompts and on a mixed set (p50/p99 ms).
- ``peak_rss_mb``: the process's peak resident memory after all of the above.
- ``quality``: on the shared test split (see ``bastion.training.data``) and the contrast
  ``test`` split: benign pass rate (not blocked) and unsafe catch rate (not allowed), for
  rules-only, rules + classifier in the cascade (``escalate_low`` 0.15), and rules +
  classifier always run (``escalate_low`` = 0, the default since design note 0021).

Run: ``.venv/bin/python benchmarks/bench_classifier.py`` (reads ``../shared/data``).
"""

from __future__ import annotations

import json
import os
import platform
import resource
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from bastion.core.types import Action
from bastion.datasets import load_contrast_set
from bastion.guard import CombinerConfig, Guard, GuardConfig, LayerConfig
from bastion.models import MiniLMEncoder, PromptClassifier
from bastion.training.data import load_examples

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"
BLOCKING = {Action.REFUSE, Action.ASK_CONTEXT}
CASCADE_ESCALATE_LOW = 0.15


def _latency(fn: Callable[[str], Any], texts: list[str]) -> dict[str, float]:
    times = []
    for text in texts:
        start = time.perf_counter()
        fn(text)
        times.append((time.perf_counter() - start) * 1000)
    return {
        "p50_ms": round(float(np.percentile(times, 50)), 3),
        "p99_ms": round(float(np.percentile(times, 99)), 3),
        "n": len(times),
    }


def _encoder(
    head: PromptClassifier, threads: int, workers: int = 1, *, arena: bool = False
) -> MiniLMEncoder:
    own = head.encoder_file
    if own is None:
        return MiniLMEncoder(threads=threads, workers=workers, arena=arena)
    return MiniLMEncoder(
        threads=threads, model=own[0], model_sha256=own[1], workers=workers, arena=arena
    )


def _bulk(encoder: MiniLMEncoder, head: PromptClassifier, texts: list[str]) -> dict[str, Any]:
    encoder.encode(texts[:32])  # warm up
    start = time.perf_counter()
    head.predict(encoder.encode(texts, batch_size=8))
    elapsed = time.perf_counter() - start
    return {"prompts_per_s": round(len(texts) / elapsed, 1), "batch": 8, "n": len(texts)}


def _throughput(encoder: MiniLMEncoder, head: PromptClassifier, texts: list[str]) -> dict[str, Any]:
    encoder.encode(texts[:32])  # warm up
    start = time.perf_counter()
    for i in range(0, len(texts), 32):
        head.predict(encoder.encode(texts[i : i + 32]))
    elapsed = time.perf_counter() - start
    return {"prompts_per_s": round(len(texts) / elapsed, 1), "batch": 32, "n": len(texts)}


def _guard(classifier: bool, *, always: bool = False) -> Guard:
    layers = [LayerConfig(type="rules")]
    if classifier:
        layers.append(LayerConfig(type="prompt_classifier", timeout_s=5))
    # The default combiner now runs every tier on every turn (design note 0021), so the
    # cascade is built explicitly with the band documented in docs/models/prompt_classifier.md.
    combiner = CombinerConfig(escalate_low=0.0 if always else CASCADE_ESCALATE_LOW)
    return Guard.from_policy(config=GuardConfig(layers=layers, combiner=combiner))


def _quality(guard: Guard, sets: dict[str, list[tuple[str, int]]]) -> dict[str, Any]:
    out = {}
    for name, items in sets.items():
        actions = [(guard.check(text).action, label) for text, label in items]
        safe = [a for a, label in actions if label == 0]
        unsafe = [a for a, label in actions if label == 1]
        out[name] = {
            "benign_pass_rate": round(sum(a not in BLOCKING for a in safe) / len(safe), 4),
            "benign_flagged_rate": round(sum(a is not Action.ALLOW for a in safe) / len(safe), 4),
            "unsafe_catch_rate": round(sum(a is not Action.ALLOW for a in unsafe) / len(unsafe), 4),
            "unsafe_blocked_rate": round(sum(a in BLOCKING for a in unsafe) / len(unsafe), 4),
            "n_benign": len(safe),
            "n_unsafe": len(unsafe),
        }
    return out


def main() -> None:
    """Measure and print JSON."""
    if not SHARED.exists():
        sys.exit(f"shared data not found at {SHARED}")
    test = [(e.text, e.label) for e in load_examples(SHARED) if e.split == "test"]
    contrast = [(p.safe, 0) for p in load_contrast_set("test")]
    contrast += [(p.unsafe, 1) for p in load_contrast_set("test")]
    sets = {"shared_test": test, "contrast_test": contrast}
    head = PromptClassifier.load()
    encoder, encoder2 = _encoder(head, 1), _encoder(head, 2)
    benign = [t for t, label in test if label == 0][:200]
    mixed = [t for t, _ in test[:150]] + [t for t, _ in contrast[::2]]
    encoder.encode(["warm up"])
    result: dict[str, Any] = {
        "benchmark": "tier1_prompt_classifier",
        "classifier_single": _latency(lambda t: head.predict(encoder.encode([t])), benign),
        "classifier_batch_2_workers": _bulk(
            _encoder(head, 1, 2, arena=True), head, [t for t, _ in test]
        ),
        "classifier_batch_2_threads": _throughput(encoder2, head, [t for t, _ in test]),
    }
    with _guard(True) as guard:
        result["guard_rules_classifier_benign"] = _latency(guard.check, benign)
        result["guard_rules_classifier_mixed"] = _latency(guard.check, mixed)
    with _guard(False) as guard:
        result["guard_rules_only_mixed"] = _latency(guard.check, mixed)
        result["quality_rules_only"] = _quality(guard, sets)
    with _guard(True) as guard:
        result["quality_rules_classifier_cascade"] = _quality(guard, sets)
    with _guard(True, always=True) as guard:
        result["tier1_check_every_turn"] = _latency(guard.check, [t for t, _ in test][:400])
        result["quality_rules_classifier_always"] = _quality(guard, sets)
    result["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    result["machine"] = {"cpus": os.cpu_count(), "python": platform.python_version()}
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
