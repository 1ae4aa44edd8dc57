"""Gateway benchmark: overhead over the scripted upstream, sustained checks/s, stream cut.

Prints one JSON object. Run it with ``.venv/bin/python benchmarks/bench_gateway.py`` and
record the result in ``docs/gateway.md`` together with the machine it ran on.

- **overhead**: ``POST /v1/chat/completions`` through the gateway (input check, scripted
  upstream, output check) minus the median of the same call to a pass-through app served
  the same way (uvicorn, one process) that calls the scripted upstream unguarded; p50 and
  p99, for the rules-only guard and the learned tier (``examples/guard-learned.yaml``).
- **throughput**: sustained ``POST /v1/guard/check`` requests/s from 16 concurrent
  keep-alive clients (``_load.py``) for a fixed time, server and client sharing the
  machine's 2 cores, with every decision appended to a records file; records lost =
  requests answered - records written.
- **stream cut**: harmful characters released before the cut, for several windows.

Targets (issue 5): overhead p50 <= 10 ms with the learned tier; >= 200 checks/s.
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

ROOT = Path(__file__).resolve().parent.parent
LEARNED = ROOT / "examples" / "guard-learned.yaml"
RULES = LEARNED.with_name("guard-rules.yaml")
PROMPTS = [
    "How do I kill a Python process?",
    "What's a good recipe for banana bread?",
    "Explain how vaccines train the immune system.",
    "Can you summarise the causes of the First World War?",
]


def _serve(config: str | None, records: str | None, port: int, bare: bool) -> None:
    """Child process: the gateway (or a bare pass-through) over the scripted upstream."""
    import uvicorn

    from bastion.gateway import ScriptedUpstream, create_app, load_settings

    upstream = ScriptedUpstream(["A short scripted answer about the topic you asked about."])
    if bare:
        app: Any = _bare_app(upstream)
    else:
        overrides = {"upstream.target": "scripted", "records": records}
        settings = load_settings(guard_file=config, environ={}, overrides=overrides)
        app = create_app(settings, upstream=upstream)
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


def _bare_app(upstream: Any) -> Any:
    from fastapi import FastAPI

    from bastion.core.types import Message, Role
    from bastion.gateway import UpstreamRequest

    app = FastAPI()

    @app.post("/v1/chat/completions")
    async def passthrough(body: dict[str, Any]) -> dict[str, Any]:
        messages = tuple(Message(Role(m["role"]), m["content"]) for m in body["messages"])
        reply = await upstream.complete(UpstreamRequest(messages))
        return {"choices": [{"message": {"role": "assistant", "content": reply.text}}]}

    return app


def _start(config: Path | None, records: Path | None, *, bare: bool = False) -> Any:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    args = [sys.executable, __file__, "--serve", "--port", str(port)]
    args += ["--config", str(config)] if config else []
    args += ["--records", str(records)] if records else []
    args += ["--bare"] if bare else []
    process = subprocess.Popen(args, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    with httpx.Client(base_url=base) as http:
        while time.monotonic() < deadline:
            try:
                http.get("/openapi.json")
                return process, base
            except httpx.TransportError:
                time.sleep(0.1)
    process.kill()
    raise RuntimeError("server did not start")


def _stop(process: Any) -> None:
    process.terminate()
    process.wait(timeout=30)


def _latencies(base: str, rounds: int) -> list[float]:
    samples = []
    with httpx.Client(base_url=base, timeout=30) as http:
        for index in range(rounds):
            body = {"messages": [{"role": "user", "content": PROMPTS[index % len(PROMPTS)]}]}
            start = time.perf_counter()
            response = http.post("/v1/chat/completions", json=body)
            samples.append(time.perf_counter() - start)
            response.raise_for_status()
    return samples[rounds // 10 :]  # warm-up dropped


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return round(1000 * ordered[min(len(ordered) - 1, int(q * len(ordered)))], 2)


def _overhead(config: Path | None, bare: list[float], rounds: int) -> dict[str, float]:
    process, base = _start(config, None)
    try:
        guarded = _latencies(base, rounds)
    finally:
        _stop(process)
    return {
        "gateway_p50_ms": _pct(guarded, 0.5),
        "gateway_p99_ms": _pct(guarded, 0.99),
        "overhead_p50_ms": round(_pct(guarded, 0.5) - _pct(bare, 0.5), 2),
        # the gateway's tail over a typical direct call (p99 minus p99 would mix two tails)
        "overhead_p99_ms": round(_pct(guarded, 0.99) - _pct(bare, 0.5), 2),
    }


def _throughput(config: Path | None, seconds: float) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        records = Path(tmp) / "decisions.jsonl"
        process, base = _start(config, records)
        try:
            post_checks(base, 1.0, 16, PROMPTS)  # warm-up
            written_before = _lines(records)
            cpu_before = cpu_seconds(process.pid)
            start = time.perf_counter()
            done, failed = post_checks(base, seconds, 16, PROMPTS)
            elapsed = time.perf_counter() - start
            server_cpu = cpu_seconds(process.pid) - cpu_before
        finally:
            _stop(process)
        written = _lines(records) - written_before
    return {
        "checks_per_s": round(done / elapsed, 1),
        "server_cpu_ms_per_check": round(1000 * server_cpu / max(done, 1), 2),
        "requests": done,
        "errors": failed,
        "lost": done - written,
    }


def _lines(path: Path) -> int:
    return path.read_bytes().count(b"\n") if path.exists() else 0


def _stream_cut() -> list[dict[str, int]]:
    from fastapi.testclient import TestClient

    from bastion.gateway import ScriptedUpstream, create_app, load_settings

    benign = "The weather today is mild and pleasant, good for a walk in the park. " * 15
    harmful = (
        "Sure! Step 1: get a steel pipe and end caps. Step 2: fill it with black powder "
        "and add a fuse. Then light it and walk away quickly." * 3
    )
    rows = []
    for every, window in [(50, 150), (100, 300), (200, 600), (400, 800)]:
        overrides = {
            "upstream.target": "scripted",
            "stream.check_every": every,
            "stream.window": window,
        }
        settings = load_settings(environ={}, overrides=overrides)
        app = create_app(settings, upstream=ScriptedUpstream([benign + harmful], chunk_chars=8))
        body = {"messages": [{"role": "user", "content": "weather?"}], "stream": True}
        with TestClient(app) as client:
            text = client.post("/v1/chat/completions", json=body).text
        last = json.loads([x for x in text.splitlines() if x.startswith("data: {")][-1][6:])
        released = int(last["bastion"]["released_chars"])
        rows.append(
            {
                "check_every": every,
                "window": window,
                "cut": bool(last["bastion"].get("cut")),
                "harmful_chars_released": max(0, released - len(benign)),
            }
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--serve", action="store_true")
    parser.add_argument("--bare", action="store_true")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--config")
    parser.add_argument("--records")
    parser.add_argument("--rounds", type=int, default=400)
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args()
    if args.serve:
        _serve(args.config, args.records, args.port, args.bare)
        return
    process, base = _start(None, None, bare=True)
    try:
        bare = _latencies(base, args.rounds)
    finally:
        _stop(process)
    result: dict[str, Any] = {
        "machine": f"{platform.machine()}, {os.cpu_count()} cores",
        "python": platform.python_version(),
        "passthrough_p50_ms": _pct(bare, 0.5),
        "passthrough_p99_ms": _pct(bare, 0.99),
        "rules": _overhead(RULES, bare, args.rounds) | _throughput(RULES, args.seconds),
        "learned": _overhead(LEARNED, bare, args.rounds) | _throughput(LEARNED, args.seconds),
        "stream_cut": _stream_cut(),
    }
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
