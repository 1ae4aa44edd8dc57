"""Kill -9 runs: ``bastion serve`` on a store, traffic from threads, SIGKILL mid-traffic.

Shared by ``benchmarks/faults.py`` (several kills per store) and
``tests/reliability/test_faults.py`` (one kill). A request is *acknowledged* when it got a
200 whose decisions were recorded (a decision the store could not record is a fail-closed
refusal that says so, and is counted apart); after the last restart every acknowledged
request must have its records (a check: the input decision; a chat: the input and the
output decision) and the audit chain must verify.
"""

from __future__ import annotations

import os
import secrets
import signal
import socket
import string
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

SERVE = [sys.executable, "-m", "bastion", "serve", "--upstream", "scripted"]


@dataclass
class Tally:
    """What the clients saw, shared by the client threads of a run."""

    sent: int = 0
    acknowledged: dict[str, tuple[str, ...]] = field(default_factory=dict)
    unrecorded: int = 0
    failed: int = 0
    latencies_ms: list[float] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(store_url: str, cwd: Path) -> tuple[subprocess.Popen[bytes], str]:
    """``bastion serve`` on ``store_url`` (scripted upstream), once ``/readyz`` answers."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("BASTION_")}
    env.update({"BASTION_GATEWAY_DASHBOARD": "false", "BASTION_GATEWAY_ACCESS_LOG": "false"})
    process = subprocess.Popen(
        [*SERVE, "--port", str(port), "--store", store_url],
        cwd=cwd,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    with httpx.Client(base_url=base, timeout=5) as http:
        while time.monotonic() < deadline and process.poll() is None:
            try:
                if http.get("/readyz").status_code == 200:
                    return process, base
            except httpx.TransportError:
                time.sleep(0.1)
    process.kill()
    process.wait(10)
    raise RuntimeError(f"bastion serve did not start on {store_url}")


def marker_words() -> str:
    """A marker of lowercase letters (nothing the redactor could take for personal data)."""
    return "".join(secrets.choice(string.ascii_lowercase) for _ in range(10))


def _one(http: httpx.Client, index: int) -> tuple[str, tuple[str, ...], bool] | None:
    """Send one request: (request id, directions to expect, recorded) for a 200, else None."""
    text = f"Tell me about {marker_words()} please."
    if index % 2:
        reply = http.post("/v1/guard/check", json={"messages": [{"role": "user", "content": text}]})
        if reply.status_code != 200:
            return None
        data = reply.json()
        return data["id"], ("input",), data["decision"]["error"] is None
    body = {"messages": [{"role": "user", "content": text}]}
    reply = http.post("/v1/chat/completions", json=body)
    if reply.status_code != 200:
        return None
    data = reply.json()
    decisions = (data["bastion"]["input"], data["bastion"]["output"])
    recorded = all(d is None or d.get("error") is None for d in decisions)
    return data["id"], ("input", "output"), recorded


def _client(base: str, tally: Tally, stop: threading.Event, offset: int) -> None:
    with httpx.Client(base_url=base, timeout=10) as http:
        index = offset
        while not stop.is_set():
            with tally.lock:
                tally.sent += 1
            start = time.perf_counter()
            try:
                result = _one(http, index)
            except httpx.TransportError:
                with tally.lock:
                    tally.failed += 1
                return  # the server is gone
            _count(tally, result, 1000 * (time.perf_counter() - start))
            index += 1


def _count(tally: Tally, result: tuple[str, tuple[str, ...], bool] | None, ms: float) -> None:
    with tally.lock:
        if result is None:
            tally.failed += 1
        elif result[2]:
            tally.acknowledged[result[0]] = result[1]
            tally.latencies_ms.append(ms)
        else:
            tally.unrecorded += 1


def phase(
    base: str, tally: Tally, requests: int, concurrency: int
) -> tuple[list[threading.Thread], threading.Event]:
    """Start ``concurrency`` clients; return them and their stop event once ``requests``
    more were sent (they go on sending until stopped or the server is gone)."""
    stop = threading.Event()
    target = tally.sent + requests
    threads = [
        threading.Thread(target=_client, args=(base, tally, stop, i), daemon=True)
        for i in range(concurrency)
    ]
    for thread in threads:
        thread.start()
    while tally.sent < target and any(t.is_alive() for t in threads):
        time.sleep(0.005)
    return threads, stop


def kill_run(
    store_url: str, cwd: Path, *, kills: int, requests: int, concurrency: int = 4
) -> dict[str, Any]:
    """``kills`` SIGKILLs mid-traffic (``requests`` sent per server life), then a last life
    that stops cleanly; the store is checked after it."""
    tally = Tally()
    for life in range(kills + 1):
        process, base = start_server(store_url, cwd)
        try:
            threads, stop = phase(base, tally, requests, concurrency)
            if life < kills:
                process.send_signal(signal.SIGKILL)  # while the clients are mid-request
            stop.set()
            for thread in threads:
                thread.join(30)
        finally:
            if process.poll() is None:
                process.terminate()
            process.wait(30)
    return {**check_store(store_url, tally), **summary(tally)}


def check_store(store_url: str, tally: Tally) -> dict[str, Any]:
    """Records found and lost for the acknowledged requests, and the chain's verdict."""
    from bastion.oversight import AuditQuery, open_store

    store = open_store(store_url)
    try:
        found = lost = 0
        for request_id, directions in tally.acknowledged.items():
            entries = store.search(AuditQuery(request_id=request_id, limit=20))
            seen = {entry.direction for entry in entries}
            found += len(seen & set(directions))
            lost += len(set(directions) - seen)
        report = store.verify()
    finally:
        store.close()
    return {
        "records_found": found,
        "records_lost": lost,
        "chain_verified": report.ok,
        "chain_entries": report.entries,
    }


def summary(tally: Tally) -> dict[str, Any]:
    ordered = sorted(tally.latencies_ms)
    pick = lambda q: round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 1)  # noqa: E731
    return {
        "requests": tally.sent,
        "acknowledged": len(tally.acknowledged),
        "refused_unrecorded": tally.unrecorded,
        "failed": tally.failed,
        "p50_ms": pick(0.5) if ordered else None,
        "p99_ms": pick(0.99) if ordered else None,
    }
