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
