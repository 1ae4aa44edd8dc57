"""HTTP plumbing: safe JSON, OpenAI-style error bodies, the body-size and body-time limits,
no tracebacks.

Every error the gateway answers has the OpenAI shape
``{"error": {"message", "type", "param", "code"}}``, so OpenAI clients raise their usual
exceptions. Nothing is ever answered with a traceback: an unexpected exception becomes a
500 with a generic message (the traceback goes to the log).
"""

from __future__ import annotations

import json
import logging
from typing import Any

import anyio
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bastion.core.errors import InputError, RecordError
from bastion.gateway.service import new_error_id
from bastion.gateway.upstream import UpstreamError

__all__ = ["BodyLimitMiddleware", "SafeJSONResponse", "error_response", "install_handlers"]

_log = logging.getLogger("bastion.gateway")


def dumps(content: Any) -> bytes:
    """Compact JSON as UTF-8; lone surrogates become ``\\udXXX`` escapes, never an error."""
    text = json.dumps(content, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return text.encode("utf-8", "backslashreplace")


class SafeJSONResponse(JSONResponse):
    """A JSON response that cannot fail to encode hostile text."""

    def render(self, content: Any) -> bytes:
        return dumps(content)


def error_body(message: str, kind: str, code: str | None = None) -> dict[str, Any]:
    """The OpenAI error shape."""
    return {"error": {"message": message, "type": kind, "param": None, "code": code}}


def error_response(
    status: int, message: str, kind: str, code: str | None = None
) -> SafeJSONResponse:
    """An error as a JSON response."""
    return SafeJSONResponse(error_body(message, kind, code), status_code=status)


def _validation_message(exc: RequestValidationError) -> str:
    errors = exc.errors()
    if not errors:
        return "invalid request"
    first = errors[0]
    if first.get("type") == "json_invalid":
        detail = (first.get("ctx") or {}).get("error", "cannot parse")
        return f"malformed JSON: {detail}"[:1000]
    where = ".".join(str(part) for part in first.get("loc", ()) if part != "body")
    message = str(first.get("msg", "invalid value"))
    if first.get("type") == "missing" and where == "":
        message = "the request body is empty; send a JSON object"
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return f"{where or 'body'}: {message}{more}"[:1000]


async def _on_validation(request: Request, exc: Exception) -> Any:
    assert isinstance(exc, RequestValidationError)
    return error_response(400, _validation_message(exc), "invalid_request_error")


async def _on_http(request: Request, exc: Exception) -> Any:
    assert isinstance(exc, HTTPException)
    kind = _HTTP_KINDS.get(exc.status_code, "invalid_request_error")
    response = error_response(exc.status_code, str(exc.detail), kind)
    response.headers.update(exc.headers or {})  # Retry-After of a 429
    return response


_HTTP_KINDS = {
    401: "authentication_error",
    403: "permission_error",
    404: "not_found",
    429: "rate_limit_error",
}


async def _on_input(request: Request, exc: Exception) -> Any:
    return error_response(400, str(exc), "invalid_request_error")


async def _on_upstream(request: Request, exc: Exception) -> Any:
    code = exc.reason if isinstance(exc, UpstreamError) else None
    return error_response(502, f"upstream error: {exc}", "upstream_error", code)


async def _on_record(request: Request, exc: Exception) -> Any:
    error_id = new_error_id()
    _log.error("oversight store failed (error id %s): %s", error_id, exc, exc_info=exc)
    message = f"the oversight store is unavailable; try again (error id {error_id})"
    return error_response(503, message, "store_unavailable")


def install_handlers(app: FastAPI) -> None:
    """Answer validation, HTTP, input, store and upstream errors as OpenAI-style JSON (a
    store error says only its error id; the details go to the log)."""
    app.add_exception_handler(RequestValidationError, _on_validation)
    app.add_exception_handler(HTTPException, _on_http)
    app.add_exception_handler(InputError, _on_input)
    app.add_exception_handler(UpstreamError, _on_upstream)
    app.add_exception_handler(RecordError, _on_record)


class BodyLimitMiddleware:
    """Reads the request body up to ``max_bytes`` (413 past it) within ``body_timeout_s``
    (408 and ``Connection: close`` past it), and turns any unexpected exception into a
    JSON 500 without a traceback.

    The body is buffered before the app sees it (it is small by construction), so an
    oversized body is refused whether or not it declares ``Content-Length``, and a body
    shorter than its ``Content-Length`` (or one that trickles in) cannot hold the
    connection open: the whole read shares one deadline.
    """

    def __init__(self, app: ASGIApp, *, max_bytes: int, body_timeout_s: float = 10.0) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.body_timeout_s = body_timeout_s

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        body: bytes | None = b""
        with anyio.move_on_after(self.body_timeout_s) as deadline:
            body = await self._read(scope, receive)
        if deadline.cancelled_caught:
            message = f"request body not received within {self.body_timeout_s:g} s"
            await _send_error(send, 408, message)
            return
        if body is None:
            await _send_error(send, 413, f"request body over {self.max_bytes:,} bytes")
            return
        await self._run(scope, _replay(body, receive), send)

    async def _read(self, scope: Scope, receive: Receive) -> bytes | None:
        declared = dict(scope.get("headers") or ()).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            return None
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                return None
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        return b"".join(chunks)

    async def _run(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception:  # noqa: BLE001 - answered as JSON; the traceback goes to the log
            _log.exception("unhandled error in the gateway")
            if not started:
                await _send_error(send, 500, "internal error in the gateway")


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


_SEND_KINDS = {408: "request_timeout", 413: "request_too_large"}


async def _send_error(send: Send, status: int, message: str) -> None:
    payload = dumps(error_body(message, _SEND_KINDS.get(status, "internal_error")))
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(payload)).encode()),
    ]
    if status == 408:  # the rest of the body may still come: do not read it as a request
        headers.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": payload})
