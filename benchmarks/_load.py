"""Shared by the HTTP benchmarks: a cheap load generator and process CPU accounting.

The load generator speaks keep-alive HTTP/1.1 on raw asyncio streams. httpx's
per-request cost (~3 ms of CPU) would take a core of the two the server is measured on;
this client costs a fraction of that, so the figure is the server's, not the client's.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from collections.abc import Sequence
from pathlib import Path


async def _client(
    host: str, port: int, deadline: float, prompts: Sequence[str], offset: int
) -> tuple[int, int]:
    """One connection posting ``/v1/guard/check`` until ``deadline``: (ok, failed)."""
    reader, writer = await asyncio.open_connection(host, port)
    done = failed = 0
    index = offset
    try:
        while time.perf_counter() < deadline:
            body = json.dumps({"messages": prompts[index % len(prompts)]}).encode()
            head = (
                f"POST /v1/guard/check HTTP/1.1\r\nHost: {host}\r\n"
                f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
            )
            writer.write(head.encode() + body)
            status_line = await reader.readline()
            length = 0
            while (line := await reader.readline()) not in (b"\r\n", b""):
                name, _, value = line.decode("latin-1").partition(":")
                if name.strip().lower() == "content-length":
                    length = int(value)
            await reader.readexactly(length)
            ok = status_line.split(b" ", 2)[1:2] == [b"200"]
            done += ok
            failed += not ok
            index += 1
    finally:
        writer.close()
    return done, failed


async def _all(
    base: str, seconds: float, concurrency: int, prompts: Sequence[str]
) -> list[tuple[int, int]]:
    host, port = base.removeprefix("http://").split(":")
    deadline = time.perf_counter() + seconds
    return await asyncio.gather(
        *(_client(host, int(port), deadline, prompts, i) for i in range(concurrency))
    )


def post_checks(
    base: str, seconds: float, concurrency: int, prompts: Sequence[str]
) -> tuple[int, int]:
    """``concurrency`` clients posting checks to ``base`` for ``seconds``: (ok, failed)."""
    results = asyncio.run(_all(base, seconds, concurrency, prompts))
    return sum(r[0] for r in results), sum(r[1] for r in results)


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of ``pid`` so far (Linux ``/proc``; 0 elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def _paced_client(
    host: str, port: int, schedule: Sequence[float], prompts: Sequence[str], offset: int
) -> tuple[list[float], list[str], int]:
    """One keep-alive connection sending a check at each time of ``schedule``.

    Latency runs from the scheduled time, not the send, so a stalled server is charged
    for the requests it held up (no coordinated omission). Returns (latencies in
    seconds, ids of acknowledged checks, failed requests).
    """
    reader, writer = await asyncio.open_connection(host, port)
    latencies: list[float] = []
    acked: list[str] = []
    failed = 0
    try:
        for index, due in enumerate(schedule):
            await asyncio.sleep(max(0.0, due - time.perf_counter()))
            body = json.dumps({"messages": prompts[(offset + index) % len(prompts)]}).encode()
            head = (
                f"POST /v1/guard/check HTTP/1.1\r\nHost: {host}\r\n"
                f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
            )
            writer.write(head.encode() + body)
            status, reply = await _response(reader)
            latencies.append(time.perf_counter() - due)
            if status == 200:
                acked.append(str(json.loads(reply)["id"]))
            else:
                failed += 1
    finally:
        writer.close()
    return latencies, acked, failed


async def _response(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    status_line = await reader.readline()
    length = 0
    while (line := await reader.readline()) not in (b"\r\n", b""):
        name, _, value = line.decode("latin-1").partition(":")
        if name.strip().lower() == "content-length":
            length = int(value)
    body = await reader.readexactly(length)
    return int(status_line.split(b" ", 2)[1]), body


async def _paced(
    base: str, rate: float, seconds: float, concurrency: int, prompts: Sequence[str]
) -> list[tuple[list[float], list[str], int]]:
    host, port = base.removeprefix("http://").split(":")
    start = time.perf_counter() + 0.2
    total = int(rate * seconds)
    # Request i is due at start + i / rate; connection c sends requests c, c+n, c+2n...
    schedules = [
        [start + i / rate for i in range(c, total, concurrency)] for c in range(concurrency)
    ]
    return await asyncio.gather(
        *(_paced_client(host, int(port), s, prompts, c) for c, s in enumerate(schedules))
    )


def paced_checks(
    base: str, rate: float, seconds: float, concurrency: int, prompts: Sequence[str]
) -> tuple[list[float], list[str], int]:
    """Open-loop load: ``rate`` checks/s for ``seconds`` over ``concurrency`` connections.

    Returns (latencies in seconds, ids of acknowledged checks, failed requests).
    """
    results = asyncio.run(_paced(base, rate, seconds, concurrency, prompts))
    latencies = [x for r in results for x in r[0]]
    acked = [x for r in results for x in r[1]]
    return latencies, acked, sum(r[2] for r in results)
