"""Oversight benchmark: sustained ``POST /v1/guard/check`` with the store recording every
decision, and a check that no audit record was lost.

Prints one JSON object. Run it with ``.venv/bin/python benchmarks/bench_oversight.py``
(``--store postgresql://...`` for PostgreSQL) and record the result in
``docs/benchmarks.md`` with the machine it ran on.

The server (``bastion serve``: uvicorn, one process, scripted upstream, the default guard
or ``--config``) and the load generator (16 concurrent clients) share the machine's
cores. Every decision is appended to the hash-chained audit log; afterwards the store is
opened again and ``lost = answered - entries`` must be 0 and the chain must verify.

Target (issue 5): >= 200 checks/s on 2 cores with zero lost records.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from _load import cpu_seconds, post_checks

PROMPTS = [
    "How do I kill a Python process?",
    "What's a good recipe for banana bread? My email is ann@example.org.",
    "Explain how vaccines train the immune system.",
    "Write a haiku about the sea.",
]


def _start(store: str, config: str | None, access_log: bool) -> tuple[Any, str]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    args = [sys.executable, "-m", "bastion", "serve", "--upstream", "scripted"]
    args += ["--port", str(port), "--store", store] + (["--config", config] if config else [])
    env = {
        **os.environ,
        "BASTION_GATEWAY_DASHBOARD": "false",
        "BASTION_GATEWAY_ACCESS_LOG": str(access_log).lower(),
    }
    process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    with httpx.Client(base_url=base) as http:
        while time.monotonic() < deadline:
            try:
                if http.get("/readyz").status_code == 200:
                    return process, base
            except httpx.TransportError:
                time.sleep(0.2)
    process.kill()
    raise RuntimeError("server did not start")


def measure(
    store: str, config: str | None, seconds: float, concurrency: int, *, access_log: bool = True
) -> dict[str, Any]:
    """Run the load against a fresh server on ``store`` and check the audit log."""
    from bastion.oversight import AuditQuery, open_store

    process, base = _start(store, config, access_log)
    try:
        before = open_store(store)
        start_count = before.count(AuditQuery())
        before.close()
        cpu_before = cpu_seconds(process.pid)
        started = time.perf_counter()
        done, failed = post_checks(base, seconds, concurrency, PROMPTS)
        elapsed = time.perf_counter() - started
        server_cpu = cpu_seconds(process.pid) - cpu_before
    finally:
        process.terminate()
        process.wait(timeout=60)
    after = open_store(store)
    entries = after.count(AuditQuery()) - start_count
    report = after.verify()
    after.close()
    return {
        "checks_per_s": round(done / elapsed, 1),
        "server_cpu_ms_per_check": round(1000 * server_cpu / max(done, 1), 2),
        "server_cores_busy": round(server_cpu / elapsed, 2),
        "answered": done,
        "errors": failed,
        "audit_entries_written": entries,
        "lost": done - entries,
        "chain_ok": report.ok,
        "chain_entries": report.entries,
    }


def store_only(store: str, count: int = 2000, threads: int = 4) -> dict[str, Any]:
    """Appends/s of the store alone (4 threads, no HTTP, no guard) and the chain check."""
    from concurrent.futures import ThreadPoolExecutor

    from bastion.core.types import Action, Limit, Message, Role
    from bastion.core.verdict import Decision
    from bastion.gateway import DecisionEvent
    from bastion.oversight import open_store

    opened = open_store(store)
    decision = Decision(Action.ALLOW, False, 0.01, None, Limit.NONE, (), "rules", "ok")
    event = DecisionEvent("input", decision, (Message(Role.USER, PROMPTS[1]),), None, "b", False)
    started = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(lambda _: opened.record(event), range(count)))
    elapsed = time.perf_counter() - started
    ok = opened.verify().ok
    opened.close()
    return {"store_appends_per_s": round(count / elapsed, 1), "store_chain_ok": ok}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", help="store URL (default: a fresh SQLite file)")
    parser.add_argument("--config", help="guard configuration YAML (default guard if unset)")
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument(
        "--no-access-log", action="store_true", help="turn uvicorn's access log off"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        store = args.store or f"sqlite:///{Path(tmp) / 'bench.db'}"
        result = measure(
            store, args.config, args.seconds, args.concurrency, access_log=not args.no_access_log
        )
        result.update(store_only(args.store or f"sqlite:///{Path(tmp) / 'alone.db'}"))
    result.update(
        backend=store.split(":", 1)[0],
        guard=args.config or "default",
        access_log=not args.no_access_log,
        seconds=args.seconds,
        concurrency=args.concurrency,
        machine={
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "python": platform.python_version(),
        },
    )
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
