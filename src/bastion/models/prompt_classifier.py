"""The tier-1 prompt classifier head: numpy-only inference over MiniLM embeddings.

An artifact is a folder holding ``weights.npz`` (float32) and ``metadata.json``:

- a binary *unsafe* head ``w_unsafe`` (384,), ``b_unsafe`` (1,), whose logit is calibrated
  with Platt scaling ``p = sigmoid(platt_a * logit + platt_b)`` (fitted on the dev split);
- a one-vs-rest *category* head ``w_category`` (K, 384), ``b_category`` (K,) over the policy
  categories that had enough training data (``metadata["categories"]``);
- optionally (v4 on) a multinomial *intent* head ``w_intent`` (I, 384), ``b_intent`` (I,)
  over ``metadata["intents"]`` (:class:`bastion.core.types.Intent` values): what the
  prompt wants done with its topic. Artifacts without it predict no intent.

``metadata["encoder"]["file"]`` names the artifact's own encoder relative to its folder
(v4 points at ``../prompt_classifier_v3/encoder.onnx``, the fine-tuned encoder it shares
with v3), pinned by ``model_sha256`` and hash-checked when the encoder loads.

``p_unsafe`` is the calibrated probability the prompt is unsafe (bastion's score
convention). ``metadata["threshold"]`` is the operating point chosen on the dev split; the
model card beside the artifact says how it was chosen and what it costs on both sides.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from bastion.core.errors import ConfigError

__all__ = [
    "ARTIFACT_FORMAT",
    "METADATA_FILE",
    "WEIGHTS_FILE",
    "PromptClassifier",
    "PromptPrediction",
    "multilingual_artifact_dir",
    "packaged_artifact_dir",
]

ARTIFACT_FORMAT: Final = "bastion.prompt_classifier/1"
"""Format tag written into ``metadata.json``."""

WEIGHTS_FILE: Final = "weights.npz"
METADATA_FILE: Final = "metadata.json"
_ARRAYS: Final = ("w_unsafe", "b_unsafe", "w_category", "b_category")
_INTENT_ARRAYS: Final = ("w_intent", "b_intent")


def packaged_artifact_dir() -> Path:
    """The classifier artifact shipped with bastion."""
    root = resources.files("bastion.models").joinpath("artifacts/prompt_classifier_v3")
    return Path(str(root))


def multilingual_artifact_dir() -> Path:
    """The multilingual classifier artifact (heads over multilingual-e5-small)."""
    root = resources.files("bastion.models").joinpath("artifacts/multilingual_classifier_v2")
    return Path(str(root))


@dataclass(frozen=True, slots=True)
class PromptPrediction:
    """The classifier's reading of one prompt.

    Attributes:
        p_unsafe: calibrated probability the prompt is unsafe, 0..1.
        category: the most likely policy category (if the prompt were unsafe).
        category_probs: one-vs-rest probability per category, highest first.
        intent: the most likely intent (an :class:`~bastion.core.types.Intent` value), None
            when the artifact has no intent head.
        intent_probs: softmax probability per intent, highest first (empty without a head).
    """

    p_unsafe: float
    category: str
    category_probs: tuple[tuple[str, float], ...]
    intent: str | None = None
    intent_probs: tuple[tuple[str, float], ...] = ()


def _sigmoid(z: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    return np.asarray(0.5 * (1.0 + np.tanh(0.5 * z)), dtype=np.float64)  # overflow-free


def _softmax(z: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return np.asarray(e / e.sum(axis=1, keepdims=True), dtype=np.float64)


class PromptClassifier:
    """Linear heads over sentence embeddings; load with :meth:`load`."""

    def __init__(
        self,
        arrays: dict[str, npt.NDArray[np.float32]],
        metadata: dict[str, Any],
        folder: Path | None = None,
    ) -> None:
        self._w = arrays["w_unsafe"].astype(np.float64)
        self._b = float(arrays["b_unsafe"].reshape(-1)[0])
        self._wc = arrays["w_category"].astype(np.float64)
        self._bc = arrays["b_category"].astype(np.float64)
        self._categories: tuple[str, ...] = tuple(metadata["categories"])
        self._intents: tuple[str, ...] = tuple(metadata.get("intents", ()))
        self._wi = arrays["w_intent"].astype(np.float64) if self._intents else None
        self._bi = arrays["b_intent"].astype(np.float64) if self._intents else None
        self._a = float(metadata["calibration"]["platt_a"])
        self._c = float(metadata["calibration"]["platt_b"])
        self.metadata = metadata
        self._folder = folder or packaged_artifact_dir()
        if self._wc.shape != (len(self._categories), self._w.shape[0]):
            raise ConfigError("classifier artifact: category weights do not match categories")
        if self._wi is not None and self._wi.shape != (len(self._intents), self._w.shape[0]):
            raise ConfigError("classifier artifact: intent weights do not match intents")

    @classmethod
    def load(cls, path: Path | None = None) -> PromptClassifier:
        """Load an artifact folder (None: the packaged one).

        Raises:
            ConfigError: when files are missing or malformed.
        """
        folder = path or packaged_artifact_dir()
        try:
            metadata = json.loads((folder / METADATA_FILE).read_text(encoding="utf-8"))
            with np.load(folder / WEIGHTS_FILE, allow_pickle=False) as data:
                names = _ARRAYS + (_INTENT_ARRAYS if metadata.get("intents") else ())
                arrays = {name: np.asarray(data[name], dtype=np.float32) for name in names}
        except (OSError, KeyError, ValueError) as exc:
            raise ConfigError(f"{folder}: cannot load the classifier artifact ({exc})") from exc
        if metadata.get("format") != ARTIFACT_FORMAT:
            raise ConfigError(f"{folder}: not a {ARTIFACT_FORMAT} artifact")
        return cls(arrays, metadata, folder)

    @property
    def categories(self) -> tuple[str, ...]:
        """Categories of the category head."""
        return self._categories

    @property
    def intents(self) -> tuple[str, ...]:
        """Intents of the intent head (empty when the artifact has none)."""
        return self._intents

    @property
    def encoder_file(self) -> tuple[Path, str] | None:
        """``(path, sha256)`` of the artifact's own (fine-tuned) encoder, if it has one.

        The file is named relative to the artifact folder (it may sit in a sibling
        artifact, as v4's does in v3's); the encoder checks the hash before loading it.
        None means the artifact's heads read the packaged MiniLM encoder's embeddings.
        """
        encoder = self.metadata.get("encoder", {})
        name = encoder.get("file")
        if not name:
            return None
        return (self._folder / str(name)).resolve(), str(encoder["model_sha256"])

    @property
    def threshold(self) -> float:
        """The operating threshold chosen on the dev split."""
        return float(self.metadata["threshold"])

    def logits(self, embeddings: npt.NDArray[np.float32]) -> npt.NDArray[np.float64]:
        """Uncalibrated unsafe-head logits, shape ``(n,)``."""
        return np.asarray(embeddings, dtype=np.float64) @ self._w + self._b

    @property
    def language_offsets(self) -> dict[str, float]:
        """Logit offsets per language code (``metadata["language_offsets"]``; empty for
        artifacts without them). See :meth:`p_unsafe`."""
        return {str(k): float(v) for k, v in self.metadata.get("language_offsets", {}).items()}

    def p_unsafe(
        self, embeddings: npt.NDArray[np.float32], logit_offset: float = 0.0
    ) -> npt.NDArray[np.float64]:
        """Calibrated probabilities unsafe, shape ``(n,)``; ``logit_offset`` is added to the
        logit before calibration (a language's offset, :attr:`language_offsets`)."""
        return _sigmoid(self._a * (self.logits(embeddings) + logit_offset) + self._c)

    def predict(
        self, embeddings: npt.NDArray[np.float32], logit_offset: float = 0.0
    ) -> list[PromptPrediction]:
        """One prediction per embedding row (``logit_offset``: see :meth:`p_unsafe`)."""
        probs = self.p_unsafe(embeddings, logit_offset)
        x = np.asarray(embeddings, dtype=np.float64)
        cats = _sigmoid(x @ self._wc.T + self._bc)
        intents = (
            _softmax(x @ self._wi.T + self._bi)
            if self._wi is not None and self._bi is not None
            else np.zeros((len(probs), 0))
        )
        return [
            self._one(float(p), row, irow)
            for p, row, irow in zip(probs, cats, intents, strict=True)
        ]

    def _one(
        self, p: float, row: npt.NDArray[np.float64], irow: npt.NDArray[np.float64]
    ) -> PromptPrediction:
        order = np.argsort(-row, kind="stable")
        ranked = tuple((self._categories[i], float(row[i])) for i in order)
        iorder = np.argsort(-irow, kind="stable")
        intents = tuple((self._intents[i], float(irow[i])) for i in iorder)
        return PromptPrediction(
            p_unsafe=p,
            category=ranked[0][0],
            category_probs=ranked,
            intent=intents[0][0] if intents else None,
            intent_probs=intents,
        )
