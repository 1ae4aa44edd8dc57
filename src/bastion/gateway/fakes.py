"""A faulty OpenAI-compatible upstream on loopback: a fake shipped for fault tests.

:class:`FaultyUpstream` serves ``POST /v1/chat/completions`` on a free ``127.0.0.1`` port
from a background thread, and answers every request with its current :data:`Fault`: a good
reply, no answer at all, a 5xx, malformed JSON, or a malformed, dropped, endless or silent
stream. The gateway's URL upstream (:class:`~bastion.gateway.OpenAICompatibleUpstream`)
talks to it over real HTTP, so the fault tests exercise the real client, timeouts and
parsers; nothing leaves the loopback interface.
"""

from __future__ import annotations

import asyncio
import json
import threading
from types import TracebackType
from typing import Literal, get_args

__all__ = ["FAULTS", "Fault", "FaultyUpstream"]

Fault = Literal[
    "ok",
    "hang",
    "error_5xx",
    "malformed_json",
    "malformed_stream",
    "dropped_stream",
    "endless_stream",
    "silent_stream",
    "endless_body",
]
"""What the upstream does with a request.

``ok``: a good reply (a JSON completion, or SSE deltas then ``[DONE]``); ``hang``: reads the
request and never answers; ``error_5xx``: ``503`` with an error body; ``malformed_json``:
``200`` whose body is not JSON (a stream gets a non-JSON event); ``malformed_stream``: one
good delta, then a broken event; ``dropped_stream``: one good delta, then the connection
closes mid-body; ``endless_stream``: deltas forever; ``silent_stream``: SSE keep-alive
comments forever, no data; ``endless_body``: a ``200`` body that never ends.
"""

FAULTS: tuple[Fault, ...] = get_args(Fault)

_CHUNKED = b"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"


class FaultyUpstream:
    """An OpenAI-compatible chat API on loopback that misbehaves on purpose.

    Args:
        fault: what every request gets (change :attr:`fault` between requests).
        reply: the good reply's text.
        interval_s: seconds between the pieces of an endless or silent answer.

    Use as a context manager (``with FaultyUpstream("hang") as up: up.base_url``); it
    stops its thread and closes every connection on exit.

    Attributes:
        requests: requests received so far.
    """

    def __init__(
        self, fault: Fault = "ok", *, reply: str = "Hello from upstream.", interval_s: float = 0.005
    ) -> None:
        if fault not in FAULTS:
            raise ValueError(f"unknown fault {fault!r}; known: {', '.join(FAULTS)}")
        self.fault: Fault = fault
        self._reply, self._interval = reply, interval_s
        self.requests = 0
        self._port = 0
        self._ready = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=asyncio.run, args=(self._main(),), daemon=True)

    @property
    def base_url(self) -> str:
        """The API root to give the gateway (``http://127.0.0.1:PORT/v1``)."""
        return f"http://127.0.0.1:{self._port}/v1"

    def __enter__(self) -> FaultyUpstream:
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("the faulty upstream did not start")
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(10)

    async def _main(self) -> None:
        self._loop, self._stop = asyncio.get_running_loop(), asyncio.Event()
        tasks: set[asyncio.Task[None]] = set()

        async def on_connect(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            task = asyncio.current_task()
            assert task is not None
            tasks.add(task)
            try:
                await self._serve(reader, writer)
            except (ConnectionError, asyncio.IncompleteReadError):
                pass  # the gateway hung up: what a cut stream looks like from here
            except asyncio.CancelledError:
                pass  # the server is stopping (only _main cancels these tasks)
            finally:
                tasks.discard(task)
                writer.close()

        server = await asyncio.start_server(on_connect, "127.0.0.1", 0)
        self._port = server.sockets[0].getsockname()[1]
        self._ready.set()
        await self._stop.wait()
        server.close()
        for task in list(tasks):
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        length = 0
        for line in head.decode("latin-1").split("\r\n"):
            name, _, value = line.partition(":")
            if name.strip().lower() == "content-length":
                length = int(value)
        body = json.loads(await reader.readexactly(length) or b"{}")
        self.requests += 1
        stream = bool(body.get("stream"))
        await _ANSWERS[self.fault](self, writer, stream)

    def _event(self, content: str) -> bytes:
        delta = {"choices": [{"index": 0, "delta": {"content": content}, "finish_reason": None}]}
        return f"data: {json.dumps(delta)}\n\n".encode()

    async def _ok(self, writer: asyncio.StreamWriter, stream: bool) -> None:
        if stream:
            events = b"".join(self._event(self._reply[i : i + 8]) for i in range(0, 64, 8))
            await _send(writer, 200, events + b"data: [DONE]\n\n", "text/event-stream")
            return
        reply = {
            "model": "faulty",
            "choices": [{"message": {"role": "assistant", "content": self._reply}}],
        }
        await _send(writer, 200, json.dumps(reply).encode(), "application/json")

    async def _hang(self, writer: asyncio.StreamWriter, stream: bool) -> None:
        await asyncio.Event().wait()  # until the gateway gives up or the server stops

    async def _error_5xx(self, writer: asyncio.StreamWriter, stream: bool) -> None:
        body = b'{"error": {"message": "overloaded", "type": "server_error"}}'
        await _send(writer, 503, body, "application/json")

    async def _malformed_json(self, writer: asyncio.StreamWriter, stream: bool) -> None:
        body = b"data: {not json\n\n" if stream else b'{"choices": [{"message": '
        await _send(writer, 200, body, "text/event-stream" if stream else "application/json")

    async def _malformed_stream(self, writer: asyncio.StreamWriter, stream: bool) -> None:
        body = self._event("Hello") + b'data: {"choices": [{"delta": \n\n'
        await _send(writer, 200, body, "text/event-stream")

    async def _dropped_stream(self, writer: asyncio.StreamWriter, stream: bool) -> None:
        writer.write(_start(200, "text/event-stream") + _chunk(self._event("Hello")))
        await writer.drain()  # then close without the last chunk: a truncated body

    async def _endless(self, writer: asyncio.StreamWriter, piece: bytes, kind: str) -> None:
        writer.write(_start(200, kind))
        while True:
            writer.write(_chunk(piece))
            await writer.drain()
            await asyncio.sleep(self._interval)

    async def _endless_stream(self, writer: asyncio.StreamWriter, stream: bool) -> None:
        await self._endless(writer, self._event("All work and no play. " * 4), "text/event-stream")

    async def _silent_stream(self, writer: asyncio.StreamWriter, stream: bool) -> None:
        await self._endless(writer, b": keep-alive\n\n", "text/event-stream")

    async def _endless_body(self, writer: asyncio.StreamWriter, stream: bool) -> None:
        await self._endless(writer, b" " * 1024, "text/event-stream" if stream else "text/plain")


_ANSWERS = {
    "ok": FaultyUpstream._ok,
    "hang": FaultyUpstream._hang,
    "error_5xx": FaultyUpstream._error_5xx,
    "malformed_json": FaultyUpstream._malformed_json,
    "malformed_stream": FaultyUpstream._malformed_stream,
    "dropped_stream": FaultyUpstream._dropped_stream,
    "endless_stream": FaultyUpstream._endless_stream,
    "silent_stream": FaultyUpstream._silent_stream,
    "endless_body": FaultyUpstream._endless_body,
}


def _start(status: int, kind: str) -> bytes:
    return f"HTTP/1.1 {status} X\r\nContent-Type: {kind}\r\n".encode() + _CHUNKED


def _chunk(data: bytes) -> bytes:
    return f"{len(data):x}\r\n".encode() + data + b"\r\n"


async def _send(writer: asyncio.StreamWriter, status: int, body: bytes, kind: str) -> None:
    head = f"HTTP/1.1 {status} X\r\nContent-Type: {kind}\r\nContent-Length: {len(body)}\r\n"
    writer.write(head.encode() + b"Connection: close\r\n\r\n" + body)
    await writer.drain()
