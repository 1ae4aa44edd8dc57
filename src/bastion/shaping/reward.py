"""The safety reward model: a Bradley-Terry head over frozen MiniLM embeddings (numpy only).

``reward(prompt, response) = w . phi(p, r) - offset``, where ``p`` and ``r`` are the MiniLM
sentence embeddings of the prompt and the response and ``phi`` is described in
:mod:`bastion.shaping.features`. Score convention: **higher is better** (safer *and* more
helpful: refusing a harmful request scores high, refusing a harmless one scores low). The
number is a Bradley-Terry logit, so only differences mean something exactly::

    P(response a preferred over b) = sigmoid(reward(p, a) - reward(p, b))

``offset`` centres the scale so that 0 is the median reward of the training responses.

An artifact is a folder with ``weights.npz`` (``w``, and the bilinear projections
``prompt_mean``, ``prompt_basis``, ``response_mean``, ``response_basis`` when used) and
``metadata.json`` (format tag, feature spec, offset, encoder hashes, metrics). The packaged
one is ``bastion/models/artifacts/reward_model_v1``; its model card says what it was
trained on and how well it ranks each kind of pair.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from importlib import resources
from pathlib import Path
from typing import Any, Final, Protocol

import numpy as np
import numpy.typing as npt

from bastion.core.errors import ConfigError, InputError
from bastion.shaping.features import FeatureSpec, Featurizer, Projection

__all__ = [
    "ARTIFACT_FORMAT",
    "MAX_TEXT_CHARS",
    "RewardModel",
    "TextEncoder",
    "packaged_reward_dir",
    "preference_probability",
]

ARTIFACT_FORMAT: Final = "bastion.reward_model/1"
"""Format tag written into ``metadata.json``."""

WEIGHTS_FILE: Final = "weights.npz"
METADATA_FILE: Final = "metadata.json"

MAX_TEXT_CHARS: Final = 8192
"""Texts are cut to this many characters before encoding. The encoder reads at most 256
word pieces (about 1,000 characters of English) anyway; the cut keeps a multi-megabyte
input from costing seconds of tokenisation."""


class TextEncoder(Protocol):
    """Anything that turns texts into unit-length embeddings (MiniLM, or a fake in tests)."""

    def encode(self, texts: Sequence[str], batch_size: int = 32) -> npt.NDArray[np.float32]:
        """Shape ``(len(texts), dim)``."""
        ...


def packaged_reward_dir() -> Path:
    """The reward-model artifact shipped with bastion."""
    root = resources.files("bastion.models").joinpath("artifacts/reward_model_v1")
    return Path(str(root))


def preference_probability(reward_a: float, reward_b: float) -> float:
    """Bradley-Terry probability that the response with ``reward_a`` is preferred."""
    return float(0.5 * (1.0 + np.tanh(0.5 * (reward_a - reward_b))))


def _text(value: object, what: str) -> str:
    if not isinstance(value, str):
        raise InputError(f"{what} must be a string, got {type(value).__name__}")
    return value[:MAX_TEXT_CHARS]


class RewardModel:
    """Scores (prompt, response) pairs; load with :meth:`load`.

    Args:
        arrays: the artifact's arrays (see the module docstring).
        metadata: the artifact's metadata.
        encoder: the sentence encoder; None builds the packaged MiniLM on first use.
    """

    def __init__(
        self,
        arrays: dict[str, npt.NDArray[Any]],
        metadata: dict[str, Any],
        *,
        encoder: TextEncoder | None = None,
    ) -> None:
        spec = FeatureSpec.from_dict(metadata.get("features"))
        self._featurizer = Featurizer(spec, *_projections(arrays, spec))
        self._w = np.asarray(arrays["w"], dtype=np.float64).reshape(-1)
        self._offset = float(metadata.get("offset", 0.0))
        self.metadata = metadata
        self._encoder = encoder
        self._threads = 1
        dim = int(metadata.get("embedding_dim", 384))
        if self._w.shape[0] != self._featurizer.dim(dim):
            raise ConfigError("reward artifact: weights do not match the feature spec")

    @classmethod
    def load(
        cls,
        artifact: Path | None = None,
        *,
        encoder: TextEncoder | None = None,
        threads: int = 1,
    ) -> RewardModel:
        """Load an artifact folder (None: the packaged one).

        Args:
            artifact: the folder holding ``weights.npz`` and ``metadata.json``.
            encoder: an encoder to use instead of the packaged MiniLM (tests pass a fake).
            threads: onnxruntime threads of the packaged encoder.

        Raises:
            ConfigError: files are missing or malformed, or not a reward-model artifact.
        """
        folder = artifact or packaged_reward_dir()
        try:
            metadata = json.loads((folder / METADATA_FILE).read_text(encoding="utf-8"))
            with np.load(folder / WEIGHTS_FILE, allow_pickle=False) as data:
                arrays = {name: np.asarray(data[name]) for name in data.files}
        except (OSError, KeyError, ValueError) as exc:
            raise ConfigError(f"{folder}: cannot load the reward-model artifact ({exc})") from exc
        if not isinstance(metadata, dict) or metadata.get("format") != ARTIFACT_FORMAT:
            raise ConfigError(f"{folder}: not a {ARTIFACT_FORMAT} artifact")
        if "w" not in arrays:
            raise ConfigError(f"{folder}: weights.npz has no 'w' array")
        model = cls(arrays, metadata, encoder=encoder)
        model._threads = threads
        return model

    @property
    def features(self) -> FeatureSpec:
        """The feature spec the head reads."""
        return self._featurizer.spec

    def rewards(
        self, prompts: npt.NDArray[np.floating[Any]], responses: npt.NDArray[np.floating[Any]]
    ) -> npt.NDArray[np.float64]:
        """Rewards from precomputed embeddings (paired rows), shape ``(n,)``."""
        phi = self._featurizer.transform(
            np.asarray(prompts, np.float64), np.asarray(responses, np.float64)
        )
        return np.asarray(phi @ self._w - self._offset, dtype=np.float64)

    def score(self, prompt: str, response: str) -> float:
        """The reward of one response to one prompt (higher is better).

        Raises:
            InputError: ``prompt`` or ``response`` is not a string.
            ConfigError: the encoder cannot be loaded.
        """
        return self.score_many([(prompt, response)])[0]

    def score_many(self, pairs: Iterable[tuple[str, str]], *, batch_size: int = 32) -> list[float]:
        """Rewards of many ``(prompt, response)`` pairs, in order.

        Identical prompts (several candidate responses to one prompt) are embedded once.

        Raises:
            InputError: a prompt or response is not a string.
            ConfigError: the encoder cannot be loaded.
        """
        items = [(_text(p, "prompt"), _text(r, "response")) for p, r in pairs]
        if not items:
            return []
        prompts = sorted({p for p, _ in items})
        index = {p: i for i, p in enumerate(prompts)}
        encoder = self._get_encoder()
        e_prompts = encoder.encode(prompts, batch_size=batch_size)
        e_responses = encoder.encode([r for _, r in items], batch_size=batch_size)
        rows = e_prompts[[index[p] for p, _ in items]]
        return [float(v) for v in self.rewards(rows, e_responses)]

    def _get_encoder(self) -> TextEncoder:
        if self._encoder is None:
            from bastion.models.encoder import MODEL_SHA256, MiniLMEncoder

            pinned = self.metadata.get("encoder", {}).get("model_sha256", MODEL_SHA256)
            if pinned != MODEL_SHA256:
                raise ConfigError(
                    "reward artifact was trained on a different encoder "
                    f"(sha256 {pinned}); pass that encoder explicitly"
                )
            self._encoder = MiniLMEncoder(threads=self._threads)
        return self._encoder


def _projections(
    arrays: dict[str, npt.NDArray[Any]], spec: FeatureSpec
) -> tuple[Projection | None, Projection | None]:
    if "bilinear" not in spec.blocks:
        return None, None
    try:
        pair = tuple(
            Projection(
                np.asarray(arrays[f"{side}_mean"], np.float64),
                np.asarray(arrays[f"{side}_basis"], np.float64),
            )
            for side in ("prompt", "response")
        )
    except KeyError as exc:
        raise ConfigError(f"reward artifact: missing projection array {exc}") from None
    if any(p.basis.shape[1] != spec.rank for p in pair):
        raise ConfigError("reward artifact: projection rank does not match the feature spec")
    return pair[0], pair[1]
