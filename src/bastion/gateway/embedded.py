"""The embedded upstream: a local GGUF chat model on llama.cpp, no network.

Qwen2.5-Coder-0.5B-Instruct (reassembled from its chunk packages and SHA-256 verified by
:func:`bastion.models.llm.model_path`), with SmolLM2-135M-Instruct as the fallback when
the Qwen packages are missing. The model is loaded on the first request, not at start-up.
Generation runs on a worker thread; one conversation at a time (a llama.cpp context is
not thread-safe).
"""

from __future__ import annotations

import queue
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import anyio

from bastion.core.errors import ConfigError
from bastion.gateway.upstream import Completion, UpstreamError, UpstreamRequest
from bastion.models.llm import INSTALL_HINT, model_path

__all__ = ["EmbeddedUpstream", "resolve_embedded_model"]

_DONE = object()


def resolve_embedded_model(name: str, cache_dir: Path | None = None) -> tuple[str, Path]:
    """``(name, verified GGUF path)``; ``auto`` is Qwen, else SmolLM2.

    Raises:
        ConfigError: the model packages are missing or fail their hash check.
    """
    if name != "auto":
        return name, model_path(name, cache_dir)
    try:
        return "qwen", model_path("qwen", cache_dir)
    except ConfigError:
        return "smollm2", model_path("smollm2", cache_dir)


class EmbeddedUpstream:
    """A local GGUF chat model as the upstream (lazy-loaded on first use).

    Args:
        model: ``auto`` | ``qwen`` | ``smollm2``.
        threads: llama.cpp threads.
        n_ctx: context window in tokens.
        max_tokens: reply length when the request sets none.
        cache_dir: where the reassembled Qwen file lives (None: the default cache).
    """

    def __init__(
        self,
        *,
        model: str = "auto",
        threads: int = 2,
        n_ctx: int = 4096,
        max_tokens: int = 256,
        cache_dir: Path | None = None,
    ) -> None:
        self._name, self._threads, self._n_ctx = model, threads, n_ctx
        self._max_tokens, self._cache_dir = max_tokens, cache_dir
        self._llama: Any = None
        self._loaded_name = model
        self._lock = threading.Lock()

    @property
    def model(self) -> str:
        """The embedded model's name (``auto`` until loaded)."""
        return self._loaded_name

    def _load_locked(self) -> Any:
        if self._llama is not None:
            return self._llama
        try:
            import llama_cpp
        except ImportError:
            raise UpstreamError(
                f"the embedded model needs llama-cpp-python: {INSTALL_HINT}", reason="embedded"
            ) from None
        try:
            name, path = resolve_embedded_model(self._name, self._cache_dir)
            self._llama = llama_cpp.Llama(
                model_path=str(path),
                n_ctx=self._n_ctx,
                n_threads=self._threads,
                n_threads_batch=self._threads,
                verbose=False,
            )
        except (ConfigError, ValueError, RuntimeError, OSError) as exc:
            raise UpstreamError(
                f"cannot load the embedded model: {exc}", reason="embedded"
            ) from None
        self._loaded_name = name
        return self._llama

    async def aclose(self) -> None:
        """Free the model (the gateway does it at shutdown)."""
        with self._lock:
            llama, self._llama = self._llama, None
        close = getattr(llama, "close", None)
        if close is not None:
            close()

    def _chunks(self, request: UpstreamRequest, stop: threading.Event) -> Iterator[str]:
        """Generate (holding the lock) and yield deltas until done or ``stop`` is set."""
        with self._lock:
            llama = self._load_locked()
            events = llama.create_chat_completion(
                messages=[{"role": m.role.value, "content": m.content} for m in request.messages],
                max_tokens=request.max_tokens or self._max_tokens,
                temperature=0.0 if request.temperature is None else request.temperature,
                stream=True,
            )
            try:
                for event in events:
                    if stop.is_set():
                        break
                    yield str(event["choices"][0].get("delta", {}).get("content") or "")
            finally:
                close: Callable[[], None] | None = getattr(events, "close", None)
                if close is not None:
                    close()

    async def complete(self, request: UpstreamRequest) -> Completion:
        """The whole reply (generated on a worker thread)."""
        pieces = [piece async for piece in self.stream(request)]
        text = "".join(pieces)
        return Completion(text=text, model=self.model, completion_tokens=len(pieces))

    async def stream(self, request: UpstreamRequest) -> AsyncIterator[str]:
        """Deltas as llama.cpp produces them; closing the iterator stops generation."""
        chunks: queue.Queue[object] = queue.Queue()
        stop = threading.Event()
        worker = threading.Thread(
            target=_produce, args=(self._chunks(request, stop), chunks), daemon=True
        )
        worker.start()
        try:
            while (item := await anyio.to_thread.run_sync(chunks.get)) is not _DONE:
                if isinstance(item, BaseException):
                    raise item
                if item:
                    yield str(item)
        finally:
            stop.set()


def _produce(source: Iterator[str], sink: queue.Queue[object]) -> None:
    try:
        for piece in source:
            sink.put(piece)
    except UpstreamError as exc:
        sink.put(exc)
    except Exception as exc:  # noqa: BLE001 - reported to the consumer, never lost
        sink.put(UpstreamError(f"embedded model failed: {exc}", reason="embedded"))
    finally:
        sink.put(_DONE)
