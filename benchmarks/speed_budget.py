"""The default guard against issue 20's speed budget, everything it runs by default.

Targets (idle machine, one core per check unless said):

- prompts up to 2,000 characters: p50 <= 8 ms, p99 <= 25 ms per check;
- 10,000-character prompts: p99 <= 80 ms;
- batch: >= 150 prompts/s on 2 cores (``bastion check --in --out``, workers = cores);
- serving RSS <= 400 MB (peak resident memory of a process that built the default guard and
  ran every check above);
- cold start of ``bastion check "hello there"`` <= 1 s (process start to exit, median of 5).

Prompts: the shared benign_real, benign and harmful prompt sets mixed (a fixed sample of
``--n`` prompts of at most 2,000 characters, sha256 order of the text) and ``--long`` prompts
of exactly 10,000 characters built by joining benign_real rows (a fixed order). Each check
runs once to warm up, then is timed. Prints one JSON object with every figure, its target
and whether it is met, and the load average (the figures are only comparable on an idle
machine).

Run: ``.venv/bin/python benchmarks/speed_budget.py [--n 600] [--long 40]``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from bastion.guard import Guard

ROOT = Path(__file__).resolve().parents[1]
PROMPTS = ROOT.parent / "shared" / "data" / "prompts"
BASTION = Path(sys.executable).with_name("bastion")
TARGETS = {
    "short_p50_ms": ("<=", 8.0),
    "short_p99_ms": ("<=", 25.0),
    "long_p99_ms": ("<=", 80.0),
    "batch_prompts_per_s": (">=", 150.0),
    "peak_rss_mb": ("<=", 400.0),
    "cold_start_s": ("<=", 1.0),
}


def _texts(name: str) -> list[str]:
    with (PROMPTS / f"{name}.jsonl").open(encoding="utf-8") as handle:
        return [json.loads(line)["text"] for line in handle if line.strip()]


def short_prompts(n: int) -> list[str]:
    """A fixed sample of ``n`` prompts of at most 2,000 characters, all three sets mixed."""
    pool = [t for s in ("benign_real", "benign", "harmful") for t in _texts(s) if len(t) <= 2000]
    return sorted(pool, key=lambda t: hashlib.sha256(t.encode()).hexdigest())[:n]


def long_prompts(n: int, size: int = 10_000) -> list[str]:
    """``n`` prompts of exactly ``size`` characters, benign_real rows joined in file order."""
    rows = _texts("benign_real")
    out, i = [], 0
    for _ in range(n):
        text = ""
        while len(text) < size:
            text += rows[i % len(rows)] + "\n"
            i += 1
        out.append(text[:size])
    return out


def timed(guard: Guard, texts: Sequence[str]) -> list[float]:
    """Milliseconds per check, each text warmed once first."""
    out = []
    for text in texts:
        guard.check(text)
        start = time.perf_counter()
        guard.check(text)
        out.append((time.perf_counter() - start) * 1000)
    return out


def percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def batch_rate(texts: Sequence[str]) -> float:
    """Prompts per second of ``bastion check --in --out`` (workers: one per core)."""
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "in.jsonl"
        source.write_text("".join(json.dumps({"text": t}) + "\n" for t in texts), "utf-8")
        start = time.perf_counter()
        subprocess.run(
            [str(BASTION), "check", "--in", str(source), "--out", str(Path(tmp) / "out.jsonl")],
            check=True,
            capture_output=True,
        )
        return len(texts) / (time.perf_counter() - start)


def cold_start() -> float:
    """Median wall time of ``bastion check "hello there"`` over 5 runs."""
    runs = []
    for _ in range(5):
        start = time.perf_counter()
        subprocess.run([str(BASTION), "check", "hello there"], check=True, capture_output=True)
        runs.append(time.perf_counter() - start)
    return statistics.median(runs)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--n", type=int, default=600)
    parser.add_argument("--long", type=int, default=40)
    args = parser.parse_args(argv)
    short = short_prompts(args.n)
    with Guard.from_policy() as guard:
        short_ms = timed(guard, short)
        long_ms = timed(guard, long_prompts(args.long))
    figures: dict[str, float] = {
        "short_p50_ms": round(percentile(short_ms, 0.5), 2),
        "short_p99_ms": round(percentile(short_ms, 0.99), 2),
        "long_p50_ms": round(percentile(long_ms, 0.5), 1),
        "long_p99_ms": round(percentile(long_ms, 0.99), 1),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "batch_prompts_per_s": round(batch_rate(short), 1),
        "cold_start_s": round(cold_start(), 3),
    }
    out: dict[str, Any] = {
        "benchmark": "speed_budget",
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}",
        "load_average_1m": round(os.getloadavg()[0], 2),
        "short_prompts": len(short),
        "long_prompts": args.long,
        "figures": figures,
        "targets": {
            key: {"target": f"{op} {value:g}", "met": _met(figures[key], op, value)}
            for key, (op, value) in TARGETS.items()
        },
    }
    print(json.dumps(out, indent=2, sort_keys=True))
    return 0


def _met(value: float, op: str, target: float) -> bool:
    return value <= target if op == "<=" else value >= target


if __name__ == "__main__":
    raise SystemExit(main())
