"""Any OpenAI-compatible chat API as an :class:`~bastion.models.llm.LlmBackend`, over httpx.

:class:`OpenAIChatBackend` POSTs a conversation to ``{base_url}/chat/completions`` (one
request per reply, no streaming) with a synchronous httpx client, and validates the reply
with pydantic before it is used. Everything that can go wrong maps into the one exception
tree:

- the time budget (``GenerationOptions.timeout_s``) runs out: ``LayerTimeoutError``;
- the server cannot be reached, answers an error status, or sends a reply that is not a
  chat completion (not JSON, no choices, wrong types, larger than ``max_reply_bytes``):
  ``UpstreamError`` with a ``reason`` (``unreachable``, ``http_401``, ``malformed``,
  ``too_large``) and the URL in the message;
- a base URL that is not ``http(s)://``: ``ConfigError``.

The API key is a constructor argument: the caller reads it (from the environment variable
its configuration names) and passes it in; nothing here reads the environment. A bastion
gateway adds its decisions to each reply (the ``bastion`` field and the
``X-Bastion-Action`` header); :meth:`OpenAIChatBackend.chat` returns them with the text.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

from pydantic import BaseModel, ConfigDict, Field, StrictStr, ValidationError

from bastion.core.errors import ConfigError, LayerTimeoutError, UpstreamError
from bastion.core.types import Message
from bastion.models.llm import GenerationOptions

if TYPE_CHECKING:
    import httpx

__all__ = ["DEFAULT_MAX_REPLY_BYTES", "ChatReply", "OpenAIChatBackend"]

DEFAULT_MAX_REPLY_BYTES: Final = 4 << 20
"""Largest reply body read (4 MiB); a longer one is an error, not a memory problem."""

_LAYER: Final = "openai_chat"
_ACTION_HEADER: Final = "x-bastion-action"
_HINT: Final = "install httpx (`pip install 'bastion[serve]'`)"
_MAX_ERROR_TEXT: Final = 200


class _Lenient(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class _ReplyMessage(_Lenient):
    content: StrictStr | None = None


class _Choice(_Lenient):
    message: _ReplyMessage
    finish_reason: StrictStr | None = None


class _Completion(_Lenient):
    """The fields of a ``chat.completion`` object that are used; the rest is ignored."""

    choices: list[_Choice] = Field(min_length=1)
    model: StrictStr | None = None
    bastion: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class ChatReply:
    """One reply of the endpoint.

    Attributes:
        text: the assistant's reply (first choice), with lone surrogates and NULs replaced.
        model: the model name the server reports ('' when it reports none).
        finish_reason: ``stop``, ``length``, ``content_filter``... ('' when absent).
        bastion: the ``bastion`` field a bastion gateway adds (its input and output
            decisions), else None.
        action: the ``X-Bastion-Action`` header of a bastion gateway, else None.
    """

    text: str
    model: str = ""
    finish_reason: str = ""
    bastion: Mapping[str, Any] | None = field(default=None, repr=False)
    action: str | None = None


def _scrub(text: str) -> str:
    """What UTF-8 cannot carry (lone surrogates, which JSON escapes allow) and NULs."""
    return text.encode("utf-8", "replace").decode("utf-8").replace("\x00", "\ufffd")


def _short(text: str) -> str:
    line = " ".join(_scrub(text).split())
    return line[:_MAX_ERROR_TEXT]


class OpenAIChatBackend:
    """An OpenAI-compatible ``/chat/completions`` endpoint as a chat backend.

    Args:
        base_url: the API root, e.g. ``https://api.openai.com/v1`` or
            ``http://127.0.0.1:8080/v1`` (a bastion gateway).
        model: the model name sent with every request.
        api_key: sent as ``Authorization: Bearer``; None sends none. Read by the caller.
        headers: extra headers sent with every request (e.g. ``X-Bastion-Context``).
        transport: an httpx transport (tests pass ``httpx.MockTransport`` or a WSGI one).
        max_reply_bytes: the largest reply body read.

    Use it as a context manager, or call :meth:`close`, to release the connection pool.

    Raises:
        ConfigError: the base URL is not http(s), or httpx is missing.
    """

    def __init__(
        self,
        base_url: str,
        *,
        model: str = "default",
        api_key: str | None = None,
        headers: Mapping[str, str] | None = None,
        transport: httpx.BaseTransport | None = None,
        max_reply_bytes: int = DEFAULT_MAX_REPLY_BYTES,
    ) -> None:
        if not base_url.startswith(("http://", "https://")):
            raise ConfigError(f"base URL {base_url!r} must start with http:// or https://")
        try:
            import httpx
        except ImportError as exc:
            raise ConfigError(f"the OpenAI-compatible backend needs httpx: {_HINT}") from exc
        sent = dict(headers or {})
        if api_key:
            sent["Authorization"] = f"Bearer {api_key}"
        self._url = base_url.rstrip("/") + "/chat/completions"
        self._model = model
        self._max_bytes = max_reply_bytes
        self._client = httpx.Client(headers=sent, transport=transport)

    @property
    def url(self) -> str:
        """The full ``/chat/completions`` URL."""
        return self._url

    def complete(self, messages: Sequence[Message], options: GenerationOptions) -> str:
        """The assistant's reply text (see :meth:`chat`)."""
        return self.chat(messages, options).text

    def chat(
        self,
        messages: Sequence[Message],
        options: GenerationOptions,
        *,
        headers: Mapping[str, str] | None = None,
    ) -> ChatReply:
        """POST ``messages`` and return the validated reply.

        Raises:
            LayerTimeoutError: no reply within ``options.timeout_s``.
            UpstreamError: unreachable, an error status, or a malformed or oversized reply.
        """
        import httpx

        try:
            request = self._client.build_request(
                "POST",
                self._url,
                json=_payload(self._model, messages, options),
                headers=dict(headers or {}),
                timeout=options.timeout_s,
            )
            response = self._client.send(request, stream=True)
            try:
                body = self._read(response)
            finally:
                response.close()
        except httpx.TimeoutException:
            raise LayerTimeoutError(_LAYER, options.timeout_s or 0.0) from None
        except httpx.HTTPError as exc:
            raise UpstreamError(
                f"{self._url}: unreachable ({type(exc).__name__}: {_short(str(exc))})",
                reason="unreachable",
            ) from None
        return self._parse(body, response.headers.get(_ACTION_HEADER))

    def _read(self, response: httpx.Response) -> bytes:
        chunks: list[bytes] = []
        size = 0
        for chunk in response.iter_bytes():
            size += len(chunk)
            if size > self._max_bytes:
                raise UpstreamError(
                    f"{self._url}: reply larger than {self._max_bytes} bytes", reason="too_large"
                )
            chunks.append(chunk)
        body = b"".join(chunks)
        if response.status_code >= 400:
            raise UpstreamError(
                f"{self._url}: HTTP {response.status_code}{_error_text(body)}",
                reason=f"http_{response.status_code}",
            )
        return body

    def _parse(self, body: bytes, action: str | None) -> ChatReply:
        try:
            data = _Completion.model_validate_json(body)
        except ValidationError as exc:
            errors = exc.errors()
            where = ".".join(str(p) for p in errors[0]["loc"]) if errors else ""
            what = _short(str(errors[0]["msg"])) if errors else "invalid"
            raise UpstreamError(
                f"{self._url}: not a chat completion ({where or 'body'}: {what})",
                reason="malformed",
            ) from None
        choice = data.choices[0]
        return ChatReply(
            text=_scrub(choice.message.content or ""),
            model=_scrub(data.model or ""),
            finish_reason=_scrub(choice.finish_reason or ""),
            bastion=data.bastion,
            action=_scrub(action) if action else None,
        )

    def close(self) -> None:
        """Close the connection pool."""
        self._client.close()

    def __enter__(self) -> OpenAIChatBackend:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _payload(model: str, messages: Sequence[Message], options: GenerationOptions) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "model": model,
        "messages": [{"role": m.role.value, "content": _scrub(m.content)} for m in messages],
        "max_tokens": options.max_tokens,
        "temperature": options.temperature,
        "seed": options.seed,
        "stream": False,
    }
    if options.json_schema is not None:
        payload["response_format"] = {
            "type": "json_schema",
            "json_schema": {"name": "reply", "schema": dict(options.json_schema)},
        }
    return payload


def _error_text(body: bytes) -> str:
    """``: message`` from an OpenAI-shaped error body (``{error: {message}}``), if any."""
    import json

    try:
        data = json.loads(body)
        message = data["error"]["message"] if isinstance(data["error"], dict) else data["error"]
    except (ValueError, KeyError, TypeError):
        return ""
    return f": {_short(str(message))}" if message else ""
