"""The long reliability run (issue 22): the fuzz properties at scale and a paced load run.

Prints one JSON object; record it in ``docs/security.md`` with the machine it ran on.

- **fuzz**: every property of ``tests/reliability/test_fuzz_*.py`` (normaliser, rule
  loader, policy loader, batch readers, request schemas) with ``--examples`` generated
  cases in total, split evenly (``BASTION_FUZZ_EXAMPLES`` per property). Counts come from
  hypothesis' own statistics; a crash or a hang (an example past the 2 s deadline) fails
  its property.
- **load**: ``bastion``'s gateway (default guard, scripted upstream; a SQLite store, then a
  throwaway PostgreSQL cluster, ``--stores``) served
  by uvicorn in a child process on loopback, sent ``POST /v1/guard/check`` at ``--rate``
  requests/s (open loop, ``_load.paced_checks``) for ``--seconds``; p50/p99 latency from
  the scheduled send time, then the server is stopped and every acknowledged request id is
  looked up in the store's audit log: ``acked_without_record`` must be 0, and the hash
  chain must verify.

Usage: ``.venv/bin/python benchmarks/reliability.py [--examples 100000] [--rate 200]
[--seconds 600] [--stores sqlite,postgresql] [--skip-fuzz] [--skip-load]``.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import os
import platform
import re
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from _load import cpu_seconds, paced_checks

ROOT = Path(__file__).resolve().parent.parent
FUZZ = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "tests/reliability").glob("test_fuzz_*.py"))
PROMPTS = [
    "How do I kill a Python process?",
    "What's a good recipe for banana bread?",
    "Explain how vaccines train the immune system.",
    "My email is jane@example.com, can you help me write a complaint letter?",
]
_STATS = re.compile(r"(\d+) passing, (\d+) failing, and (\d+) invalid")
_TEST = re.compile(r"^(tests/\S+::\S+):$", re.MULTILINE)


def _pytest(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-W", "error", *args]
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, check=False)


def fuzz(total: int) -> dict[str, Any]:
    """Run the fuzz properties with ``total`` examples in all."""
    collected = _pytest("--collect-only", "-q", *FUZZ).stdout
    # Hypothesis properties only (parametrised regression cases carry a "[...]" id).
    properties = [line for line in collected.splitlines() if "::" in line and "[" not in line]
    per_property = math.ceil(total / max(1, len(properties)))
    env = {**os.environ, "BASTION_FUZZ_EXAMPLES": str(per_property)}
    started = time.perf_counter()
    run = _pytest("-q", "--timeout=0", "--hypothesis-show-statistics", *properties, env=env)
    counts = _counts(run.stdout)
    return {
        "properties": len(properties),
        "examples_per_property": per_property,
        "examples": sum(c["passing"] for c in counts.values()),
        "failing": sum(c["failing"] for c in counts.values()),
        "invalid": sum(c["invalid"] for c in counts.values()),
        "pytest_exit_code": run.returncode,
        "seconds": round(time.perf_counter() - started, 1),
        "per_property": counts,
        "failures": run.stdout[-3000:] if run.returncode else "",
    }


def _counts(output: str) -> dict[str, dict[str, int]]:
    """Hypothesis statistics per test: generate-phase passing/failing/invalid cases."""
    counts: dict[str, dict[str, int]] = {}
    for match in _TEST.finditer(output):
        section = output[match.end() : output.find("\n\n\n", match.end())]
        totals = [0, 0, 0]
        for found in _STATS.finditer(section):
            totals = [a + int(b) for a, b in zip(totals, found.groups(), strict=True)]
        counts[match.group(1)] = dict(zip(("passing", "failing", "invalid"), totals, strict=True))
    return counts


def _serve(store_url: str, port: int) -> None:
    """Child process: the gateway over the scripted upstream and the SQLite store."""
    import uvicorn

    from bastion.gateway import ScriptedUpstream, create_app, load_settings

    overrides = {"upstream.target": "scripted", "store_url": store_url}
    app = create_app(
        load_settings(environ={}, overrides=overrides),
        upstream=ScriptedUpstream(["A short scripted answer."]),
    )
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


def _start(store_url: str) -> tuple[subprocess.Popen[bytes], str]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    args = [sys.executable, __file__, "--serve", "--port", str(port), "--store", store_url]
    process = subprocess.Popen(args, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    with httpx.Client(base_url=base) as http:
        while time.monotonic() < deadline:
            try:
                if http.get("/readyz", timeout=30).status_code == 200:
                    return process, base
            except httpx.TransportError:
                time.sleep(0.2)
    process.kill()
    raise RuntimeError("server did not start")


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return round(1000 * ordered[min(len(ordered) - 1, int(q * len(ordered)))], 2)


def _recorded(url: str, acked: list[str]) -> set[str]:
    """The acknowledged request ids that have a decision record in the store at ``url``
    (one query over the audit table: a lookup per id takes minutes at 100,000 ids)."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                text("SELECT request_id FROM audit_entries WHERE kind = 'decision'")
            )
            stored = {str(row[0]) for row in rows}
    finally:
        engine.dispose()
    return stored.intersection(acked)


@contextmanager
def _store(kind: str) -> Iterator[str]:
    """The URL of a fresh store of ``kind`` (a SQLite file, or a throwaway PostgreSQL cluster
    made as ``benchmarks/faults.py`` makes one)."""
    if kind == "postgresql":
        from faults import postgres

        with postgres() as url:
            yield url
        return
    with tempfile.TemporaryDirectory() as tmp:
        yield f"sqlite:///{Path(tmp) / 'oversight.db'}"


def load(rate: float, seconds: float, concurrency: int, kind: str = "sqlite") -> dict[str, Any]:
    """The paced load run against a store of ``kind``; see the module docstring."""
    from bastion.oversight import open_store

    with _store(kind) as url:
        process, base = _start(url)
        try:
            cpu_before, started = cpu_seconds(process.pid), time.perf_counter()
            latencies, acked, failed = paced_checks(base, rate, seconds, concurrency, PROMPTS)
            wall = time.perf_counter() - started
            cpu = cpu_seconds(process.pid) - cpu_before
        finally:
            process.terminate()
            process.wait(timeout=60)
        recorded = _recorded(url, list(acked))
        store = open_store(url)
        try:
            chain = store.verify()
        finally:
            store.close()
    return {
        "store": kind,
        "target_rate": rate,
        "seconds": seconds,
        "connections": concurrency,
        "requests": len(latencies),
        "acknowledged": len(acked),
        "failed": failed,
        "wall_s": round(wall, 1),
        "achieved_rate": round(len(latencies) / wall, 1),  # below target: saturated
        "p50_ms": _pct(latencies, 0.5),
        "p99_ms": _pct(latencies, 0.99),
        "max_ms": _pct(latencies, 1.0),
        "server_cpu_s": round(cpu, 1),
        "acked_without_record": len(set(acked) - recorded),
        "chain": dataclasses.asdict(chain),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=100_000, help="fuzz cases in total")
    parser.add_argument("--rate", type=float, default=200.0, help="requests per second")
    parser.add_argument("--seconds", type=float, default=600.0, help="load run duration")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument(
        "--stores", default="sqlite,postgresql", help="stores of the load run, comma-separated"
    )
    parser.add_argument("--skip-fuzz", action="store_true")
    parser.add_argument("--skip-load", action="store_true")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--store", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        _serve(args.store, args.port)
        return
    result: dict[str, Any] = {
        "machine": f"{platform.machine()}, {os.cpu_count()} cores",
        "python": platform.python_version(),
    }
    if not args.skip_load:
        result["load"] = [
            load(args.rate, args.seconds, args.connections, kind) for kind in args.stores.split(",")
        ]
    if not args.skip_fuzz:
        result["fuzz"] = fuzz(args.examples)
    print(json.dumps(result, indent=1))
    failed = result.get("fuzz", {}).get("pytest_exit_code", 0) or any(
        run["acked_without_record"] for run in result.get("load", [])
    )
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
