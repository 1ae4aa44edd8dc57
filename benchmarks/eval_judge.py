"""The tier-2 LLM judge as a baseline on the prompt classifier's ``dev`` split.

Samples, with a fixed seed, 100 unsafe and 100 safe prompts of the ``dev`` split of
``bastion.training.data.load_examples`` (the contrast set's dev pairs included), balanced
by source, and runs the real ``llm_judge`` layer on each, one prompt at a time. Prints one
JSON object:

- ``judge``: precision, recall, F1 and false-positive rate of ``unsafe``; the guard fails
  closed on a reply it cannot parse, so ``fail_closed`` counts those as flagged and
  ``answered`` leaves them out; ``parse_failure_rate``; p50/p95 latency per prompt.
- ``classifier``: the tier-1 prompt classifier at its calibrated threshold on the same
  prompts (its threshold was chosen on this split, so it is favoured here).
- ``cascade``: the classifier outside the band ``[--band-low, --band-high)`` and the
  judge inside it (the ``examples/guard-judge.yaml`` arrangement), and how many prompts
  reached the judge.
- ``machine``: CPU, cores, load average before and after (the host is shared).

Run: ``nice -n 10 .venv/bin/python benchmarks/eval_judge.py [--n 100] [--model qwen]``.
Per-prompt rows are cached in ``--rows`` so an interrupted run resumes.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import sys
import time
from collections.abc import Sequence
from itertools import zip_longest
from pathlib import Path
from typing import Any

import numpy as np

from bastion.core.types import as_messages
from bastion.guard import CheckRequest, LayerDeps
from bastion.guard.layers.judge import LlmJudgeConfig, LlmJudgeLayer
from bastion.guard.normalize import normalize
from bastion.models import MiniLMEncoder, PromptClassifier
from bastion.policy import load_policy
from bastion.training.data import Example, load_examples

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def _key(seed: int, text: str) -> str:
    return hashlib.sha256(f"{seed}:{text}".encode("utf-8", "replace")).hexdigest()


def sample(examples: Sequence[Example], label: int, n: int, seed: int) -> list[Example]:
    """``n`` dev examples of ``label``, hash-shuffled and interleaved by source."""
    lanes: dict[str, list[Example]] = {}
    pool = sorted(
        (e for e in examples if e.split == "dev" and e.label == label),
        key=lambda e: _key(seed, e.text),
    )
    for example in pool:
        lanes.setdefault(example.source, []).append(example)
    mixed = [e for row in zip_longest(*(lanes[s] for s in sorted(lanes))) for e in row if e]
    return mixed[:n]


def _request(text: str) -> CheckRequest:
    messages = as_messages(text)
    return CheckRequest(messages=messages, normalized=tuple(normalize(m.content) for m in messages))


def _judge_row(layer: LlmJudgeLayer, example: Example) -> dict[str, Any]:
    start = time.perf_counter()
    try:
        verdict = layer.check(_request(example.text))
        row: dict[str, Any] = {"score": verdict.score, "category": verdict.category, "error": None}
    except Exception as exc:  # noqa: BLE001 - a failure is a result here (parse failure)
        row = {"score": None, "category": None, "error": f"{type(exc).__name__}: {exc}"[:300]}
    row["latency_s"] = time.perf_counter() - start
    return {"text": example.text, "label": example.label, "source": example.source, **row}


def _rows(layer: LlmJudgeLayer, examples: list[Example], cache: Path) -> list[dict[str, Any]]:
    done = {}
    if cache.is_file():
        done = {r["text"]: r for r in map(json.loads, cache.read_text("utf-8").splitlines())}
    with cache.open("a", encoding="utf-8") as handle:
        for i, example in enumerate(examples, start=1):
            if example.text in done:
                continue
            done[example.text] = row = _judge_row(layer, example)
            handle.write(json.dumps(row) + "\n")
            handle.flush()
            print(f"{i}/{len(examples)} {row['latency_s']:.1f}s", flush=True, file=sys.stderr)
    return [done[e.text] for e in examples]


def rates(flagged: Sequence[bool], labels: Sequence[int]) -> dict[str, Any]:
    """Precision, recall, F1 and false-positive rate of ``flagged`` against ``labels``."""
    tp = sum(f and y == 1 for f, y in zip(flagged, labels, strict=True))
    fp = sum(f and y == 0 for f, y in zip(flagged, labels, strict=True))
    positives, negatives = sum(labels), len(labels) - sum(labels)
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / positives if positives else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "precision": round(precision, 4),
        "recall": round(recall, 4),
        "f1": round(f1, 4),
        "false_positive_rate": round(fp / negatives, 4) if negatives else None,
        "n": len(labels),
    }


def _judge_metrics(rows: list[dict[str, Any]]) -> dict[str, Any]:
    labels = [r["label"] for r in rows]
    fail_closed = [r["error"] is not None or r["score"] >= 0.5 for r in rows]
    answered = [r for r in rows if r["error"] is None]
    latency = [r["latency_s"] for r in rows]
    return {
        "fail_closed": rates(fail_closed, labels),
        "answered": rates([r["score"] >= 0.5 for r in answered], [r["label"] for r in answered]),
        "parse_failure_rate": round(1 - len(answered) / len(rows), 4),
        "errors": sorted({r["error"].split(" (")[0][:120] for r in rows if r["error"]})[:5],
        "latency_s": {
            "p50": round(float(np.percentile(latency, 50)), 2),
            "p95": round(float(np.percentile(latency, 95)), 2),
            "max": round(max(latency), 2),
        },
    }


def _category_agreement(rows: list[dict[str, Any]], examples: list[Example]) -> dict[str, Any]:
    """Among unsafe prompts with a known category that the judge flagged: same category?"""
    known = {e.text: e.category for e in examples if e.label == 1 and e.category}
    pairs = [
        (r["category"], known[r["text"]])
        for r in rows
        if r["text"] in known and r["error"] is None and r["score"] >= 0.5
    ]
    same = sum(a == b for a, b in pairs)
    return {"agree": round(same / len(pairs), 4) if pairs else None, "n": len(pairs)}


def _classifier_scores(texts: list[str]) -> tuple[list[float], float]:
    head = PromptClassifier.load(None)
    own = head.encoder_file
    encoder = (
        MiniLMEncoder(1) if own is None else MiniLMEncoder(1, model=own[0], model_sha256=own[1])
    )
    predictions = head.predict(encoder.encode(texts))
    return [p.p_unsafe for p in predictions], head.threshold


def _cascade(
    rows: list[dict[str, Any]], scores: list[float], threshold: float, band: tuple[float, float]
) -> dict[str, Any]:
    flagged, judged = [], 0
    for row, score in zip(rows, scores, strict=True):
        if band[0] <= score < band[1]:
            judged += 1
            flagged.append(row["error"] is not None or row["score"] >= 0.5)
        else:
            flagged.append(score >= threshold)
    labels = [r["label"] for r in rows]
    return {"band": list(band), "judged": judged, **rates(flagged, labels)}


def _machine(load_before: tuple[float, float, float]) -> dict[str, Any]:
    return {
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "loadavg_before": [round(x, 2) for x in load_before],
        "loadavg_after": [round(x, 2) for x in os.getloadavg()],
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=100, help="prompts per label")
    parser.add_argument("--model", default="qwen", choices=["qwen", "smollm2"])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--band-low", type=float, default=0.3)
    parser.add_argument("--band-high", type=float, default=0.9)
    parser.add_argument("--rows", type=Path, default=Path("/tmp/llm/judge_rows.jsonl"))
    args = parser.parse_args()
    load_before = os.getloadavg()
    examples = load_examples(SHARED)
    chosen = sample(examples, 1, args.n, args.seed) + sample(examples, 0, args.n, args.seed)
    config = LlmJudgeConfig(model=args.model, threads=args.threads, timeout_s=600, preload=True)
    layer = LlmJudgeLayer(config, LayerDeps(policy=load_policy()))
    args.rows.parent.mkdir(parents=True, exist_ok=True)
    rows = _rows(layer, chosen, args.rows)
    scores, threshold = _classifier_scores([r["text"] for r in rows])
    labels = [r["label"] for r in rows]
    report = {
        "model": args.model,
        "sample": {
            "dev_unsafe": sum(labels),
            "dev_safe": len(labels) - sum(labels),
            "contrast": sum(r["source"] == "contrast" for r in rows),
            "seed": args.seed,
        },
        "judge": _judge_metrics(rows),
        "judge_category_agreement": _category_agreement(rows, chosen),
        "classifier": {
            "threshold": round(threshold, 4),
            **rates([s >= threshold for s in scores], labels),
        },
        "cascade": _cascade(rows, scores, threshold, (args.band_low, args.band_high)),
        "machine": _machine(load_before),
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
