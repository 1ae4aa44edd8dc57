"""The long fault run (issue 22): kill -9 on both stores, each upstream fault repeated.

    python benchmarks/faults.py [--kills 3] [--requests 400] [--repeats 20] [--no-postgres]

Prints one JSON object: per case the requests sent, acknowledged, records found and lost
(must be 0), whether the audit chain verified, and p50/p99 latency of the answers.

- ``kill9_sqlite`` / ``kill9_postgresql``: ``bastion serve`` on the store, 4 client
  threads, SIGKILL after each ``--requests`` (``--kills`` times), then a last life that
  stops cleanly; every acknowledged request must have its records
  (``benchmarks/_faults.py``). PostgreSQL is a throwaway cluster (``/usr/lib/postgresql``
  binaries; ``scripts/system-deps.sh`` installs them), skipped when they are missing.
- ``upstream_<fault>`` / ``upstream_<fault>_stream``: the gateway in front of the shipped
  :class:`~bastion.gateway.fakes.FaultyUpstream`, ``--repeats`` requests each; every
  answer must be a clean ``upstream_error`` and every request's input decision recorded.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from _faults import free_port, kill_run, marker_words
from bastion.gateway import create_app, load_settings
from bastion.gateway.fakes import FAULTS, FaultyUpstream
from bastion.oversight import AuditQuery, open_store

PG_BIN = Path(os.environ.get("BASTION_PG_BIN", "/usr/lib/postgresql/15/bin"))
TIMEOUT_S, STREAM_S, STREAM_CHARS = 1.0, 2.0, 4_000


def _as_postgres(*args: str) -> list[str]:
    command = [str(PG_BIN / args[0]), *args[1:]]
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


@contextmanager
def postgres() -> Iterator[str]:
    """A throwaway PostgreSQL cluster's URL (as tests/conftest.py makes one)."""
    root = Path(tempfile.mkdtemp(prefix="bastion-pg-"))
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
    data, port = root / "data", free_port()
    run = lambda *a: subprocess.run(_as_postgres(*a), check=True, capture_output=True)  # noqa: E731
    try:
        run("initdb", "-D", str(data), "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8")
        options = f"-p {port} -k {root} -c listen_addresses=''"
        run("pg_ctl", "-D", str(data), "-o", options, "-l", str(root / "log"), "-w", "start")
        yield f"postgresql+psycopg://postgres@/postgres?host={root}&port={port}"
    finally:
        subprocess.run(
            _as_postgres("pg_ctl", "-D", str(data), "-m", "fast", "stop"), capture_output=True
        )
        shutil.rmtree(root, ignore_errors=True)


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 1)


def _upstream_case(client: TestClient, store: Any, *, stream: bool, repeats: int) -> dict[str, Any]:
    latencies: list[float] = []
    clean = lost = 0
    for _ in range(repeats):
        marker = f"faultcase {marker_words()} zebra"  # letters only: nothing to redact
        body = {"messages": [{"role": "user", "content": f"Tell me about {marker}."}]}
        start = time.perf_counter()
        response = client.post("/v1/chat/completions", json={**body, "stream": stream})
        latencies.append(1000 * (time.perf_counter() - start))
        text = response.text
        if stream:
            clean += response.status_code == 200 and '"type":"upstream_error"' in text
        else:
            clean += response.status_code == 502 and '"type":"upstream_error"' in text
        clean -= "Traceback" in text
        lost += not store.search(AuditQuery(text=marker, direction="input", limit=1))
    return {
        "requests": repeats,
        "acknowledged": repeats,  # each answer's input decision was recorded first
        "clean_fail_closed": clean,
        "records_lost": lost,
        "p50_ms": _percentile(latencies, 0.5),
        "p99_ms": _percentile(latencies, 0.99),
    }


def upstream_faults(repeats: int) -> dict[str, Any]:
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp, FaultyUpstream() as faulty:
        store = open_store(f"sqlite:///{Path(tmp) / 'oversight.db'}")
        overrides = {
            "upstream.target": faulty.base_url,
            "upstream.timeout_s": TIMEOUT_S,
            "stream.max_seconds": STREAM_S,
            "stream.max_chars": STREAM_CHARS,
            "dashboard.enabled": False,
        }
        app = create_app(load_settings(environ={}, overrides=overrides), store=store)
        try:
            with TestClient(app) as client:
                for fault in (f for f in FAULTS if f != "ok"):
                    faulty.fault = fault
                    for stream in (False, True):
                        name = f"upstream_{fault}{'_stream' if stream else ''}"
                        results[name] = _upstream_case(
                            client, store, stream=stream, repeats=repeats
                        )
            results["chain_verified"] = store.verify().ok
        finally:
            store.close()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=3)
    parser.add_argument("--requests", type=int, default=400, help="requests per server life")
    parser.add_argument("--repeats", type=int, default=20, help="requests per upstream fault")
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args()
    started = time.monotonic()
    report: dict[str, Any] = {
        "machine": f"{platform.machine()}, {os.cpu_count()} cores",
        "python": sys.version.split()[0],
    }
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'oversight.db'}"
        report["kill9_sqlite"] = kill_run(url, Path(tmp), kills=args.kills, requests=args.requests)
    if args.no_postgres or not (PG_BIN / "initdb").exists():
        report["kill9_postgresql"] = {"skipped": f"no PostgreSQL binaries in {PG_BIN}"}
    else:
        with postgres() as url, tempfile.TemporaryDirectory() as tmp:
            report["kill9_postgresql"] = kill_run(
                url, Path(tmp), kills=args.kills, requests=args.requests
            )
    report.update(upstream_faults(args.repeats))
    report["seconds"] = round(time.monotonic() - started, 1)
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
