"""Fakes shipped in the package: a fast, deterministic stand-in for the sentence encoder."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from bastion.models.encoder import EMBEDDING_DIM

__all__ = ["FakeEncoder"]

_WORD = re.compile(r"\w+")


class FakeEncoder:
    """Hashes words into a unit-length 384-d bag-of-words vector (no model, no ONNX).

    Texts sharing words get similar vectors, which is enough to train and test the
    classifier pipeline in milliseconds.
    """

    @property
    def dim(self) -> int:
        """Embedding width."""
        return EMBEDDING_DIM

    def encode(self, texts: Sequence[str], batch_size: int = 32) -> npt.NDArray[np.float32]:
        """Embed ``texts``; shape ``(len(texts), 384)``. ``batch_size`` is ignored."""
        out = np.zeros((len(texts), EMBEDDING_DIM), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in _WORD.findall(text.casefold()):
                digest = hashlib.sha256(word.encode("utf-8", "replace")).digest()
                index = int.from_bytes(digest[:4], "big") % EMBEDDING_DIM
                out[row, index] += 1.0 if digest[4] % 2 else -1.0
            norm = float(np.linalg.norm(out[row]))
            out[row] = out[row] / norm if norm > 0 else out[row]
        return out
