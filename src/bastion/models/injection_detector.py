"""The jailbreak / prompt-injection detector head: numpy-only inference over MiniLM windows.

An artifact is a folder holding ``weights.npz`` (float32) and ``metadata.json``:

- an *attack* head: optionally a ReLU layer ``w_hidden`` (384, H), ``b_hidden`` (H,), then
  ``w_attack`` (H or 384,), ``b_attack`` (1,); its logit is calibrated with Platt scaling
  ``p = sigmoid(platt_a * logit + platt_b)`` (fitted on the dev split, on text-level
  scores: the highest unit logit of each text). ``metadata["head"]`` says which;
- a one-vs-rest *kind* head ``w_kind`` (K, 384), ``b_kind`` (K,) over
  ``metadata["kinds"]`` (``jailbreak_template``, ``prompt_injection``), which names the
  technique of a text already judged an attack.

MiniLM reads at most 256 word pieces, and a mean-pooled window dilutes one hidden sentence,
so a long text is cut into overlapping windows (``metadata["window"]["tokens"]`` word pieces
every ``["stride"]``) and sentence chunks (at most ``["chunk_tokens"]``), see
:class:`Windower`; a text scores as its most suspicious unit (an instruction hidden in the
middle of a long document fills most of some chunk). ``p_attack`` is the calibrated probability
the text is a jailbreak or injection attempt; ``metadata["threshold"]`` is the operating
point chosen on the dev split (the model card says how).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Final, Protocol

import numpy as np
import numpy.typing as npt

from bastion.core.errors import ConfigError, InputError
from bastion.models.windows import Windower

__all__ = [
    "ARTIFACT_FORMAT",
    "KINDS",
    "METADATA_FILE",
    "WEIGHTS_FILE",
    "InjectionDetector",
    "InjectionScore",
    "SentenceEncoder",
    "Windower",
    "packaged_artifact_dir",
]

ARTIFACT_FORMAT: Final = "bastion.injection_detector/1"
"""Format tag written into ``metadata.json``."""

WEIGHTS_FILE: Final = "weights.npz"
METADATA_FILE: Final = "metadata.json"
KINDS: Final = ("jailbreak_template", "prompt_injection")
"""Kinds of attack the kind head names."""

_ARRAYS: Final = ("w_attack", "b_attack", "w_kind", "b_kind")
_HIDDEN: Final = ("w_hidden", "b_hidden")
_EXCERPT: Final = 80


class SentenceEncoder(Protocol):
    """Anything that turns texts into unit-length embeddings (MiniLM or the fake)."""

    def encode(self, texts: Sequence[str], batch_size: int = 32) -> npt.NDArray[np.float32]:
        """Shape ``(len(texts), dim)``."""
        ...


def packaged_artifact_dir() -> Path:
    """The detector artifact shipped with bastion."""
    root = resources.files("bastion.models").joinpath("artifacts/injection_detector_v1")
    return Path(str(root))


@dataclass(frozen=True, slots=True)
class InjectionScore:
    """The detector's reading of one text.

    Attributes:
        p_attack: calibrated probability the text is a jailbreak or injection attempt.
        kind: the most likely kind (``jailbreak_template`` | ``prompt_injection``).
        window: index of the most suspicious unit (windows first, then sentence chunks).
        windows: how many units (windows and chunks) the text was cut into.
        excerpt: the start of the most suspicious unit, for reviewers.
    """

    p_attack: float
    kind: str
    window: int
    windows: int
    excerpt: str


def _hidden_layer(
    arrays: dict[str, npt.NDArray[np.float32]], width: int
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]] | None:
    """The optional ReLU layer ``(w_hidden (384, H), b_hidden (H,))`` before the attack head."""
    if "w_hidden" not in arrays:
        return None
    w, b = arrays["w_hidden"].astype(np.float64), arrays["b_hidden"].astype(np.float64)
    if w.ndim != 2 or w.shape[1] != width or b.reshape(-1).shape != (width,):
        raise ValueError("hidden layer shapes do not match the attack head")
    return w, b.reshape(-1)


def _sigmoid(z: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    return np.asarray(0.5 * (1.0 + np.tanh(0.5 * z)), dtype=np.float64)  # overflow-free


class InjectionDetector:
    """Calibrated attack head plus kind head over window embeddings; see :meth:`load`."""

    def __init__(self, arrays: dict[str, npt.NDArray[np.float32]], metadata: dict[str, Any]):
        try:
            self._w = arrays["w_attack"].astype(np.float64).reshape(-1)
            self._b = float(arrays["b_attack"].reshape(-1)[0])
            self._hidden = _hidden_layer(arrays, self._w.shape[0])
            self._wk = arrays["w_kind"].astype(np.float64)
            self._bk = arrays["b_kind"].astype(np.float64).reshape(-1)
            self._kinds: tuple[str, ...] = tuple(metadata["kinds"])
            self._a = float(metadata["calibration"]["platt_a"])
            self._c = float(metadata["calibration"]["platt_b"])
            window = metadata["window"]
            self.windower = Windower(
                int(window["tokens"]), int(window["stride"]), int(window.get("chunk_tokens", 0))
            )
            self._threshold = float(metadata["threshold"])
        except (KeyError, TypeError, ValueError, IndexError) as exc:
            raise ConfigError(f"injection detector artifact: malformed ({exc!r})") from exc
        dim = self._w.shape[0] if self._hidden is None else self._hidden[0].shape[0]
        if self._wk.shape != (len(self._kinds), dim) or not self._kinds:
            raise ConfigError("injection detector artifact: kind weights do not match kinds")
        self.metadata = metadata

    @classmethod
    def load(cls, path: Path | None = None) -> InjectionDetector:
        """Load an artifact folder (None: the packaged one).

        Raises:
            ConfigError: when files are missing or malformed.
        """
        folder = path or packaged_artifact_dir()
        try:
            metadata = json.loads((folder / METADATA_FILE).read_text(encoding="utf-8"))
            with np.load(folder / WEIGHTS_FILE, allow_pickle=False) as data:
                names = _ARRAYS + tuple(n for n in _HIDDEN if n in data.files)
                arrays = {name: np.asarray(data[name], dtype=np.float32) for name in names}
        except (OSError, KeyError, ValueError) as exc:
            raise ConfigError(f"{folder}: cannot load the injection detector ({exc})") from exc
        if not isinstance(metadata, dict) or metadata.get("format") != ARTIFACT_FORMAT:
            raise ConfigError(f"{folder}: not a {ARTIFACT_FORMAT} artifact")
        return cls(arrays, metadata)

    @property
    def threshold(self) -> float:
        """The operating threshold chosen on the dev split."""
        return self._threshold

    @property
    def kinds(self) -> tuple[str, ...]:
        """Kinds of the kind head."""
        return self._kinds

    def logits(self, embeddings: npt.NDArray[np.float32]) -> npt.NDArray[np.float64]:
        """Uncalibrated attack logits per embedding row, shape ``(n,)``."""
        x = np.asarray(embeddings, dtype=np.float64)
        if self._hidden is not None:
            x = np.maximum(x @ self._hidden[0] + self._hidden[1], 0.0)
        return np.asarray(x @ self._w + self._b, dtype=np.float64)

    def calibrate(self, logits: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        """Calibrated probabilities for attack logits."""
        return _sigmoid(self._a * np.asarray(logits, dtype=np.float64) + self._c)

    def kind_of(self, embedding: npt.NDArray[np.float32]) -> str:
        """The most likely kind for one window embedding."""
        scores = np.asarray(embedding, dtype=np.float64) @ self._wk.T + self._bk
        return self._kinds[int(np.argmax(scores))]

    def score(
        self, encoder: SentenceEncoder, texts: Sequence[str], *, max_units: int | None = None
    ) -> list[InjectionScore]:
        """Score every text by its most suspicious unit (window or sentence chunk).

        Raises:
            InputError: when the texts need more than ``max_units`` units in all
                (judging only part of a long input would be a bypass).
        """
        split = [self.windower.split(text) for text in texts]
        total = sum(len(parts) for parts in split)
        if max_units is not None and total > max_units:
            raise InputError(
                f"input needs {total} windows and sentence chunks, more than "
                f"max_units={max_units}; raise it to judge longer documents"
            )
        unique = sorted({w for parts in split for w in parts})
        if not unique:
            return []
        index = {w: i for i, w in enumerate(unique)}
        vectors = encoder.encode(unique)
        logits = self.logits(vectors)
        return [self._best(parts, index, logits, vectors) for parts in split]

    def _best(
        self,
        parts: list[str],
        index: dict[str, int],
        logits: npt.NDArray[np.float64],
        vectors: npt.NDArray[np.float32],
    ) -> InjectionScore:
        rows = [index[w] for w in parts]
        best = int(np.argmax(logits[rows]))
        row = rows[best]
        p = float(self.calibrate(logits[row : row + 1])[0])
        return InjectionScore(
            p_attack=min(max(p, 0.0), 1.0),
            kind=self.kind_of(vectors[row]),
            window=best,
            windows=len(parts),
            excerpt=parts[best][:_EXCERPT],
        )
