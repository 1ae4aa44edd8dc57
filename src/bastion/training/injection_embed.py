"""Windows and embeddings for injection-detector training, with an on-disk cache.

Which windows a text contributes: every text is normalised exactly as the guard does
(the layer reads the canonical view) and cut into the detector's windows. For *training*,
a benign text contributes every window as a negative (the detector takes the max over
windows, so each must score low); a generated indirect attack labels each window by how
much of the injected instruction it holds (at least :data:`HOLDS` of its words: positive;
at most :data:`CLEAN`: negative, the clean rest of the document; in between: left out);
any other attack contributes its first and last window and its first and last sentence
chunk as positives (a template's persona set-up and its request; the middle of a long
attack may be innocuous). Dev and test texts are scored on every unit, as in serving.

Embedding 30,000 windows takes minutes on two cores, so :class:`CachedEncoder` keeps
vectors on disk by ``sha256(encoder id, window)``, in shards written as they are computed
(an interrupted run resumes).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import numpy as np
import numpy.typing as npt

from bastion.guard.normalize import normalize
from bastion.models.injection_detector import SentenceEncoder, Windower
from bastion.training.injection_data import InjectionExample

__all__ = ["CLEAN", "HOLDS", "CachedEncoder", "Plan", "plan_windows"]

Progress = Callable[[int, int], None]
HOLDS: Final = 0.6
CLEAN: Final = 0.15
_CHUNK = 256
_WORD = re.compile(r"\w+")


@dataclass(frozen=True, slots=True)
class Plan:
    """Windows per example: ``owner[k]`` is the example index of ``windows[k]`` and
    ``labels[k]`` its training label (-1: not a training window)."""

    windows: tuple[str, ...]
    owner: npt.NDArray[np.int64]
    labels: npt.NDArray[np.int64]


def _words(text: str) -> set[str]:
    return set(_WORD.findall(text.casefold()))


def _labelled(parts: list[str], example: InjectionExample) -> list[tuple[str, int]]:
    if example.split != "train":
        return [(part, -1) for part in parts]
    if example.label == 0:
        return [(part, 0) for part in parts]
    if example.payload:
        wanted = _words(example.payload)
        out = []
        for part in parts:
            share = len(wanted & _words(part)) / max(1, len(wanted))
            out.append((part, 1 if share >= HOLDS else 0 if share <= CLEAN else -1))
        return out
    chosen = parts if len(parts) <= 2 else [parts[0], parts[-1]]
    return [(part, 1) for part in chosen]


def plan_windows(examples: Sequence[InjectionExample], windower: Windower) -> Plan:
    """The windows to embed for ``examples`` (see the module docstring)."""
    windows: list[str] = []
    owner: list[int] = []
    labels: list[int] = []
    for index, example in enumerate(examples):
        scales = windower.units(normalize(example.text).canonical)
        seen: set[str] = set()
        for part, label in _labelled(scales[0], example) + _labelled(scales[1], example):
            if part in seen:
                continue
            seen.add(part)
            windows.append(part)
            owner.append(index)
            labels.append(label)
    return Plan(tuple(windows), np.asarray(owner, dtype=np.int64), np.asarray(labels, np.int64))


class CachedEncoder:
    """Wraps an encoder with a disk cache (``folder`` None: no cache, memory only).

    Args:
        inner: the encoder that computes missing vectors.
        folder: cache folder; shards ``shard_*.npz`` hold ``keys`` and ``vectors``.
        encoder_id: part of every key, so two encoders never share vectors.
    """

    def __init__(self, inner: SentenceEncoder, folder: Path | None, encoder_id: str) -> None:
        self._inner = inner
        self._folder = folder
        self._id = encoder_id
        self._memory: dict[str, npt.NDArray[np.float32]] = {}
        if folder is not None:
            folder.mkdir(parents=True, exist_ok=True)
            for shard in sorted(folder.glob("shard_*.npz")):
                with np.load(shard, allow_pickle=False) as data:
                    for key, vec in zip(data["keys"], data["vectors"], strict=True):
                        self._memory[str(key)] = vec

    def _key(self, text: str) -> str:
        return hashlib.sha256(f"{self._id}\x1f{text}".encode("utf-8", "replace")).hexdigest()

    def encode(
        self, texts: Sequence[str], batch_size: int = 32, progress: Progress | None = None
    ) -> npt.NDArray[np.float32]:
        """Vectors for ``texts`` (cached ones from disk), shape ``(len(texts), dim)``."""
        keys = [self._key(t) for t in texts]
        todo = {k: t for k, t in zip(keys, texts, strict=True) if k not in self._memory}
        missing = sorted(todo.items(), key=lambda kt: len(kt[1]))  # similar lengths batch well
        for start in range(0, len(missing), _CHUNK):
            chunk = missing[start : start + _CHUNK]
            vectors = self._inner.encode([t for _, t in chunk], batch_size=batch_size)
            self._store([k for k, _ in chunk], vectors)
            if progress is not None:
                progress(min(start + _CHUNK, len(missing)), len(missing))
        if not keys:
            return np.zeros((0, 384), dtype=np.float32)
        return np.stack([self._memory[k] for k in keys]).astype(np.float32)

    def _store(self, keys: list[str], vectors: npt.NDArray[np.float32]) -> None:
        for key, vec in zip(keys, vectors, strict=True):
            self._memory[key] = np.asarray(vec, dtype=np.float32)
        if self._folder is not None:
            name = hashlib.sha256("".join(keys).encode()).hexdigest()[:16]
            np.savez(self._folder / f"shard_{name}.npz", keys=np.asarray(keys), vectors=vectors)
