"""Tier-0 decision quality on the shared data and the project's contrast set.

Prints one JSON object with both sides of every trade-off: how often safe prompts are
over-refused and how often unsafe prompts are caught, with Wilson 95 % intervals. Nothing
here tunes anything: thresholds and rules were not fitted to these numbers.

- ``blocked`` = the decision is ``refuse`` or ``ask_context`` (the user does not get an
  answer straight away): for safe prompts this is over-refusal.
- ``flagged`` = any decision but ``allow`` (``caution`` answers with safety framing): for
  unsafe prompts this is the share the guard intervened on at all.

Run: ``.venv/bin/python benchmarks/eval_tier0.py [--config GUARD_CONFIG.yaml]`` (reads
``../shared/data``). Without ``--config`` it measures tier 0 alone
(``examples/guard-rules.yaml``); pass the default pipeline's file
(``examples/guard-learned.yaml``) to measure that.
"""

from __future__ import annotations

import json
import sys
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from bastion.core.stats import wilson
from bastion.core.types import Action
from bastion.datasets import load_contrast_set
from bastion.guard import Guard, load_config

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"
BLOCKING = {Action.REFUSE, Action.ASK_CONTEXT}


def wilson_rate(hits: int, total: int) -> dict[str, Any]:
    """Rate with its Wilson 95 % interval (:func:`bastion.core.stats.wilson`)."""
    if total == 0:
        return {"rate": None, "n": 0}
    low, high = wilson(hits, total)
    return {
        "rate": round(hits / total, 4),
        "low": round(low, 4),
        "high": round(high, 4),
        "n": total,
    }


def _jsonl(path: Path) -> Iterator[dict[str, Any]]:
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            yield json.loads(line)


def _rates(guard: Guard, items: Iterable[tuple[str, Any]]) -> dict[str, Any]:
    """Share blocked and share flagged, per group key and for 'all'."""
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    for key, messages in items:
        action = guard.check(messages).action
        for name in (key, "all"):
            counts[name][0] += action in BLOCKING
            counts[name][1] += action is not Action.ALLOW
            counts[name][2] += 1
    return {
        "blocked": {name: wilson_rate(b, n) for name, (b, _, n) in sorted(counts.items())},
        "flagged": {name: wilson_rate(f, n) for name, (_, f, n) in sorted(counts.items())},
    }


def _contrast(guard: Guard) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for split in ("dev", "test"):
        pairs = load_contrast_set(split)
        out[split] = {
            "safe": _rates(guard, ((p.kind, p.safe) for p in pairs)),
            "unsafe": _rates(guard, ((p.unsafe_category, p.unsafe) for p in pairs)),
        }
    return out


def _multi_turn(guard: Guard) -> dict[str, Any]:
    """Whole jailbreak transcripts: is the conversation blocked by its last user turn?"""
    items = []
    for record in _jsonl(SHARED / "multi_turn" / "conversations.jsonl"):
        messages = []
        for turn in record["turns"]:
            messages.append({"role": "user", "content": turn["user"]})
            messages.append({"role": "assistant", "content": turn.get("assistant") or ""})
        items.append((record["tactic"], messages[:-1]))
    return _rates(guard, items)


def main() -> None:
    """Run every set and print JSON."""
    if not SHARED.exists():
        sys.exit(f"shared data not found at {SHARED}")
    config = load_config(sys.argv[2]) if sys.argv[1:2] == ["--config"] else None
    rules_only = Path(__file__).resolve().parents[1] / "examples" / "guard-rules.yaml"
    guard = Guard.from_config(config or load_config(rules_only))
    benign = ((r["source"], r["text"]) for r in _jsonl(SHARED / "prompts" / "benign.jsonl"))
    harmful = ((r["source"], r["text"]) for r in _jsonl(SHARED / "prompts" / "harmful.jsonl"))
    hijack = (
        ("tensor_trust", r["text"])
        for r in _jsonl(SHARED / "jailbreak" / "prompt_injection_hijacking.jsonl")
    )
    actions = Counter(
        guard.check(r["text"]).action.value for r in _jsonl(SHARED / "prompts" / "harmful.jsonl")
    )
    result = {
        "benchmark": "tier0_quality",
        "layers": list(guard.layers),
        "shared_benign": _rates(guard, benign),
        "shared_harmful": _rates(guard, harmful),
        "shared_harmful_actions": dict(actions),
        "tensor_trust_hijacks": _rates(guard, hijack),
        "multi_turn_jailbreaks": _multi_turn(guard),
        "contrast_v1": _contrast(guard),
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
