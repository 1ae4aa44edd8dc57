"""The response classifier: numpy-only heads over MiniLM embeddings of a reply and its prompt.

It reads an assistant reply (with the request it answers) and says what kind of reply it is
(``refusal``, ``partial`` refusal, or ``compliance``) and how likely it is to be harmful.

An artifact is a folder holding ``weights.npz`` (float32) and ``metadata.json``. Each
head's input is built by :func:`features` as ``metadata["features"][head]`` says (whether a
reply refuses is read from the reply; whether it is harmful also from the prompt): parts
joined with ``+`` from the embeddings of the reply, its first sentence
(:func:`reply_opening`: refusals live there, and mean pooling over a long reply dilutes
them) and the prompt. Heads, all logistic, each with Platt scaling
``sigmoid(a * logit + b)`` fitted on dev:

- ``decline``: the reply refuses at least in part (refusal or partial) vs complies;
- ``full``: among declines, a full refusal vs a partial one;
- ``harmful``: the reply is harmful; ``metadata["threshold"]`` is its operating point;
- ``category`` (one-vs-rest, uncalibrated): the policy category of a harmful reply.

So ``p(compliance) = 1 - p_decline``, ``p(refusal) = p_decline * p_full`` and
``p(partial) = p_decline * (1 - p_full)``. The two-head split lets data that only says
"refused" (without saying fully or partly) train the first head.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from bastion.core.errors import ConfigError

__all__ = [
    "ARTIFACT_FORMAT",
    "FEATURE_PARTS",
    "HEADS",
    "KINDS",
    "OPENING_CHARS",
    "ResponseClassifier",
    "ResponsePrediction",
    "features",
    "model_text",
    "needed_inputs",
    "packaged_response_artifact_dir",
    "reply_opening",
]

ARTIFACT_FORMAT: Final = "bastion.response_classifier/1"
"""Format tag written into ``metadata.json``."""

WEIGHTS_FILE: Final = "weights.npz"
METADATA_FILE: Final = "metadata.json"
KINDS: Final = ("refusal", "partial", "compliance")
"""The reply kinds, in the order of :attr:`ResponsePrediction.kind_probs`."""

HEADS: Final = ("decline", "full", "harmful")
"""Calibrated binary heads: ``w_<head>``, ``b_<head>`` and ``calibration[<head>]``."""

FEATURE_PARTS: Final = ("reply", "opening", "prompt", "product")
"""Parts a feature mode joins with ``+``: embeddings of the reply, of its opening
(:func:`reply_opening`), of the prompt, and the element-wise reply x prompt product."""

OPENING_CHARS: Final = 200
_SENTENCE_END: Final = re.compile(r"(?<=[.!?:])\s")
_TYPOGRAPHY: Final = str.maketrans(
    {
        "\u2018": "'",
        "\u2019": "'",
        "\u02bc": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u2013": "-",
        "\u2014": "-",
    }
)

Float = npt.NDArray[np.float64]


def packaged_response_artifact_dir() -> Path:
    """The response classifier artifact shipped with bastion."""
    root = resources.files("bastion.models").joinpath("artifacts/response_classifier_v1")
    return Path(str(root))


def model_text(text: str) -> str:
    """Fold typographic quotes and dashes to ASCII before embedding ("can’t" -> "can't"):
    the tokenizer splits the two apostrophes differently, and a refusal typed with a curly
    one read as compliance."""
    return text.translate(_TYPOGRAPHY)


def reply_opening(text: str, chars: int = OPENING_CHARS) -> str:
    """The reply's first sentence (up to ``.``, ``!``, ``?`` or ``:`` and a space), at most
    ``chars`` characters, cut at a word boundary.

    Refusals live in a reply's first sentence; a mean-pooled embedding of a long reply
    dilutes them, the opening's embedding does not.
    """
    end = _SENTENCE_END.search(text)
    first = text[: end.start()] if end is not None and end.start() > 0 else text
    if len(first) <= chars:
        return first
    head = first[:chars]
    return head.rsplit(" ", 1)[0] or head


def needed_inputs(mode: str) -> frozenset[str]:
    """Which embeddings (``reply``, ``opening``, ``prompt``) a feature mode reads.

    Raises:
        ConfigError: for an unknown part.
    """
    parts = mode.split("+")
    unknown = [p for p in parts if p not in FEATURE_PARTS]
    if unknown or not parts:
        raise ConfigError(f"unknown response feature mode {mode!r}; parts: {FEATURE_PARTS}")
    needed = {p for p in parts if p != "product"}
    if "product" in parts:
        needed |= {"reply", "prompt"}
    return frozenset(needed)


def features(embeddings: Mapping[str, npt.ArrayLike], mode: str) -> Float:
    """The head input: the parts of ``mode`` joined, from rows of 384-d embeddings.

    Raises:
        ConfigError: for an unknown part, or a missing embedding.
    """
    needed_inputs(mode)
    try:
        rows = {k: np.atleast_2d(np.asarray(embeddings[k], dtype=np.float64)) for k in embeddings}
        blocks = [
            rows["reply"] * rows["prompt"] if part == "product" else rows[part]
            for part in mode.split("+")
        ]
    except KeyError as exc:
        raise ConfigError(f"response features {mode!r} need the {exc} embedding") from None
    return np.concatenate(blocks, axis=1)


def _sigmoid(z: Float) -> Float:
    return np.asarray(0.5 * (1.0 + np.tanh(0.5 * z)), dtype=np.float64)  # overflow-free


@dataclass(frozen=True, slots=True)
class ResponsePrediction:
    """The classifier's reading of one reply.

    Attributes:
        kind: the most likely of ``refusal`` | ``partial`` | ``compliance``.
        kind_probs: probability of each kind, in :data:`KINDS` order.
        p_decline: probability the reply refuses at least in part (refusal or partial).
        p_harmful: calibrated probability the reply is harmful, 0..1.
        harmful: ``p_harmful`` is at or above the artifact's operating threshold.
        category: the most likely policy category (if the reply were harmful), or None.
        category_probs: one-vs-rest score per category, highest first.
    """

    kind: str
    kind_probs: tuple[float, float, float]
    p_decline: float
    p_harmful: float
    harmful: bool
    category: str | None
    category_probs: tuple[tuple[str, float], ...]


class ResponseClassifier:
    """Calibrated logistic heads over reply/prompt embeddings; load with :meth:`load`."""

    def __init__(
        self, arrays: dict[str, npt.NDArray[np.float32]], metadata: dict[str, Any]
    ) -> None:
        self.metadata = metadata
        self._modes = {h: str(metadata["features"][h]) for h in (*HEADS, "category")}
        for mode in self._modes.values():
            needed_inputs(mode)
        self._w = {h: arrays[f"w_{h}"].astype(np.float64).reshape(-1) for h in HEADS}
        self._b = {h: float(arrays[f"b_{h}"].reshape(-1)[0]) for h in HEADS}
        calib = metadata["calibration"]
        self._platt = {h: (float(calib[h]["platt_a"]), float(calib[h]["platt_b"])) for h in HEADS}
        self._wc = arrays["w_category"].astype(np.float64)
        self._bc = arrays["b_category"].astype(np.float64).reshape(-1)
        self._categories: tuple[str, ...] = tuple(metadata["categories"])
        self._width = {h: w.shape[0] for h, w in self._w.items()}
        self._width["category"] = self._wc.shape[1] if self._wc.ndim == 2 else 0
        per_part = {w / len(self._modes[h].split("+")) for h, w in self._width.items()}
        sizes = (self._wc.shape[0], len(self._bc))
        if len(per_part) != 1 or sizes != (len(self._categories),) * 2:
            raise ConfigError("response classifier artifact: head shapes do not match")

    @classmethod
    def load(cls, path: Path | None = None) -> ResponseClassifier:
        """Load an artifact folder (None: the packaged one).

        Raises:
            ConfigError: when files are missing or malformed.
        """
        folder = path or packaged_response_artifact_dir()
        names = [f"{p}_{h}" for h in HEADS for p in ("w", "b")] + ["w_category", "b_category"]
        try:
            metadata = json.loads((folder / METADATA_FILE).read_text(encoding="utf-8"))
            with np.load(folder / WEIGHTS_FILE, allow_pickle=False) as data:
                arrays = {name: np.asarray(data[name], dtype=np.float32) for name in names}
            if metadata.get("format") != ARTIFACT_FORMAT:
                raise ConfigError(f"{folder}: not a {ARTIFACT_FORMAT} artifact")
            return cls(arrays, metadata)
        except (OSError, KeyError, ValueError, TypeError) as exc:
            raise ConfigError(f"{folder}: cannot load the response classifier ({exc})") from exc

    @property
    def feature_modes(self) -> dict[str, str]:
        """Per head (``decline``, ``full``, ``harmful``, ``category``), how embeddings are
        joined (see :func:`features`)."""
        return dict(self._modes)

    @property
    def inputs(self) -> frozenset[str]:
        """Which embeddings :meth:`predict` needs: ``reply``, ``opening``, ``prompt``."""
        return frozenset().union(*(needed_inputs(m) for m in self._modes.values()))

    @property
    def opening_chars(self) -> int:
        """Length of the reply opening the ``opening`` embedding reads."""
        return int(self.metadata.get("opening_chars", OPENING_CHARS))

    @property
    def threshold(self) -> float:
        """The harmful head's operating threshold, chosen on the dev split."""
        return float(self.metadata["threshold"])

    @property
    def categories(self) -> tuple[str, ...]:
        """Categories of the category head."""
        return self._categories

    def head(self, name: str, x: Float) -> Float:
        """Calibrated probabilities of one binary head for its feature rows ``x``."""
        a, b = self._platt[name]
        return _sigmoid(a * (x @ self._w[name] + self._b[name]) + b)

    def predict(self, embeddings: Mapping[str, npt.ArrayLike]) -> list[ResponsePrediction]:
        """One prediction per row of the :attr:`inputs` embeddings (``{name: rows}``).

        Raises:
            ConfigError: when an embedding is missing or does not fit the heads.
        """
        xs = {mode: features(embeddings, mode) for mode in set(self._modes.values())}
        for head, mode in self._modes.items():
            if xs[mode].shape[1] != self._width[head]:
                raise ConfigError(
                    f"response classifier head {head!r} expects {self._width[head]} features,"
                    f" got {xs[mode].shape[1]}"
                )
        decline, full, harm = (self.head(h, xs[self._modes[h]]) for h in HEADS)
        x = xs[self._modes["category"]]
        cats = _sigmoid(x @ self._wc.T + self._bc) if self._categories else np.zeros((len(x), 0))
        return [
            self._one(float(d), float(f), float(p), row)
            for d, f, p, row in zip(decline, full, harm, cats, strict=True)
        ]

    def _one(self, decline: float, full: float, harm: float, row: Float) -> ResponsePrediction:
        probs = (decline * full, decline * (1.0 - full), 1.0 - decline)
        order = np.argsort(-row, kind="stable")
        ranked = tuple((self._categories[i], float(row[i])) for i in order)
        return ResponsePrediction(
            kind=KINDS[int(np.argmax(probs))],
            kind_probs=probs,
            p_decline=decline,
            p_harmful=harm,
            harmful=harm >= self.threshold,
            category=ranked[0][0] if ranked else None,
            category_probs=ranked,
        )
