"""How much traffic the default guard sends to human review, and why (issue 20).

Decides the shared prompt sets with the guard ``bastion check`` builds, one fresh guard per
set (each guard has its own review budget, as each serving process does), and reports per
set: the share of decisions sent to review with its Wilson 95 % interval, how many of
those were *forced* (a layer failed, oversized input, or a ``review: always`` category)
and how many were *uncertain* (within ``review_logit_band`` of the deciding threshold and
admitted by the budget), and what the uncertain ones would have been without a budget.

Sets (all from ``../shared/data/prompts``; the guard's own training material, so these
figures are about queue load, not accuracy): ``harmful.jsonl``, ``benign.jsonl``,
``benign_real.jsonl``, and ``mixed`` = all three interleaved in a fixed order, the closest
to a real stream.

Run: ``.venv/bin/python benchmarks/review_routing.py [--config GUARD.yaml] [--step N]``
(every ``N``-th row; 1 = all, about two minutes on 2 cores). Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from tqdm import tqdm

from bastion.cli._common import build_guard
from bastion.core.stats import wilson
from bastion.core.verdict import Decision
from bastion.guard import Guard
from bastion.policy.model import ReviewMode

ROOT = Path(__file__).resolve().parents[1]
PROMPTS = ROOT.parent / "shared" / "data" / "prompts"
SETS = ("harmful", "benign", "benign_real")


def read_set(name: str, step: int) -> list[str]:
    """Every ``step``-th prompt text of ``prompts/{name}.jsonl``."""
    with (PROMPTS / f"{name}.jsonl").open(encoding="utf-8") as handle:
        rows = [json.loads(line)["text"] for line in handle if line.strip()]
    return rows[::step]


def interleave(sets: Sequence[Sequence[str]]) -> list[str]:
    """Round-robin over the sets until all are used up (a fixed, mixed stream)."""
    out: list[str] = []
    longest = max(len(s) for s in sets)
    for i in range(longest):
        out.extend(s[i] for s in sets if i < len(s))
    return out


def measure(guard: Guard, texts: Sequence[str], label: str) -> dict[str, Any]:
    """Review share of one stream, split into forced and uncertain reviews."""
    counts: Counter[str] = Counter()
    for text in tqdm(texts, desc=label, unit="prompt", leave=False):
        decision = guard.check(text)
        counts["decisions"] += 1
        if decision.review:
            counts["forced" if _forced(guard, decision) else "uncertain"] += 1
        if guard.recombine(decision, {}).review:  # the same verdicts, no budget
            counts["wanted"] += 1
    n = counts["decisions"]
    reviewed = counts["forced"] + counts["uncertain"]
    low, high = wilson(reviewed, n)
    return {
        "decisions": n,
        "review": round(reviewed / n, 4) if n else None,
        "review_ci95": [round(low, 4), round(high, 4)],
        "forced": counts["forced"],
        "uncertain_admitted": counts["uncertain"],
        "would_review_without_budget": round(counts["wanted"] / n, 4) if n else None,
    }


def _forced(guard: Guard, decision: Decision) -> bool:
    if decision.error is not None or decision.layer == "guard":
        return True
    spec = guard.policy.lookup.get(decision.subcategory or decision.category or "")
    return spec is not None and spec.review is ReviewMode.ALWAYS


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--config", type=Path, default=None)
    parser.add_argument("--step", type=int, default=1)
    args = parser.parse_args(argv)
    texts = {name: read_set(name, args.step) for name in SETS}
    texts["mixed"] = interleave([texts[name] for name in SETS])
    results: dict[str, Any] = {}
    for name, stream in texts.items():
        with build_guard(args.config, None) as guard:
            results[name] = measure(guard, stream, name)
    first = build_guard(args.config, None)
    try:
        combiner = first.config.combiner
        out = {
            "benchmark": "review_routing",
            "machine": f"{platform.machine()} {platform.processor() or ''}".strip(),
            "review_budget": combiner.review_budget,
            "review_logit_band": combiner.review_logit_band,
            "step": args.step,
            "sets": results,
        }
    finally:
        first.close()
    print(json.dumps(out, indent=2, sort_keys=True))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())


__all__ = ["interleave", "main", "measure", "read_set"]
