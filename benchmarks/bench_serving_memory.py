"""Serving memory and per-turn latency of each shipped guard configuration.

Each configuration runs in a fresh Python process (so one model's memory does not count
against another): build the guard, check 200 prompts from the shared data (half benign,
half harmful) and 50 replies, then report the process's peak resident memory, the
check latency (p50 / p99 ms, after a warm-up) and whether ``torch`` was ever imported.

Prints one JSON object. Run: ``.venv/bin/python benchmarks/bench_serving_memory.py``
(reads ``../shared/data``).
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"
CONFIGS = {
    "rules only (examples/guard-rules.yaml)": ROOT / "examples/guard-rules.yaml",
    "default: rules + prompt_classifier (no --config)": None,
    "every CPU layer (examples/guard-full.yaml)": ROOT / "examples/guard-full.yaml",
}

_CHILD = r"""
import json, resource, statistics, sys, time
from pathlib import Path
from bastion.guard import Guard, load_config

config, shared = sys.argv[1], Path(sys.argv[2])
def texts(name, n):
    rows = [json.loads(line) for line in (shared / "prompts" / name).open(encoding="utf-8")]
    return [r["text"] for r in rows[:n]]
prompts = [t for pair in zip(texts("benign.jsonl", 100), texts("harmful.jsonl", 100)) for t in pair]
guard = Guard.from_config(load_config(Path(config))) if config != "-" else Guard.from_policy()
for text in prompts[:10]:
    guard.check(text)
times = []
for text in prompts:
    start = time.perf_counter()
    guard.check(text)
    times.append((time.perf_counter() - start) * 1000)
for text in prompts[:50]:
    guard.check_response(text, "I'm sorry, I can't help with that.")
times.sort()
print(json.dumps({
    "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    "check_p50_ms": round(statistics.median(times), 2),
    "check_p99_ms": round(times[int(0.99 * (len(times) - 1))], 2),
    "torch_imported": "torch" in sys.modules,
    "layers": list(guard.layers),
}))
"""


def _run(config: Path | None) -> dict[str, Any]:
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    done = subprocess.run(
        [sys.executable, "-c", _CHILD, str(config) if config else "-", str(SHARED)],
        capture_output=True,
        text=True,
        check=True,
        env=env,
    )
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    """Measure every configuration and print the JSON report."""
    report: dict[str, Any] = {
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform()},
        "configs": {name: _run(path) for name, path in CONFIGS.items()},
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
