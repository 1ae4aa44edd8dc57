"""Pair features of the safety reward model: what the linear Bradley-Terry head reads.

A (prompt, response) pair is embedded with the frozen MiniLM encoder (two unit vectors,
``p`` and ``r``) and turned into one feature vector ``phi(p, r)``; the reward is ``w . phi``.
Only features that depend on the response survive the Bradley-Terry difference
``phi(p, chosen) - phi(p, rejected)``, so the prompt enters through interactions:

- ``resp``: ``r`` (what a good answer looks like, whatever was asked);
- ``prod``: ``p * r`` elementwise (a diagonal bilinear form ``p^T diag(w) r``);
- ``absdiff``: ``|p - r|`` (does the reply stay on the prompt's topic);
- ``bilinear``: ``vec(outer(P^T (p - mu_p), Q^T (r - mu_r)))``, a full bilinear form over
  the top ``rank`` principal directions of prompts and of responses. This is what lets
  the same refusal be rewarded after a harmful prompt and punished after a benign one:
  a diagonal form can only do that when the "harmful prompt" and "refusal" directions
  happen to share coordinates.

The projections ``P``, ``Q`` and means ``mu`` are fitted on training embeddings and saved
in the artifact beside the weights.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt

from bastion.core.errors import ConfigError

__all__ = ["BLOCKS", "FeatureSpec", "Featurizer", "Projection"]

BLOCKS: Final[tuple[str, ...]] = ("resp", "prod", "absdiff", "bilinear")
"""Feature blocks a :class:`FeatureSpec` may combine, in this order."""

Float = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class FeatureSpec:
    """Which feature blocks to use, and the rank of the bilinear block.

    Attributes:
        blocks: a subset of :data:`BLOCKS`, kept in that order.
        rank: principal directions per side of the ``bilinear`` block (0 without it).
    """

    blocks: tuple[str, ...]
    rank: int = 0

    def __post_init__(self) -> None:
        unknown = [b for b in self.blocks if b not in BLOCKS]
        if unknown or not self.blocks:
            raise ConfigError(f"feature blocks must be a non-empty subset of {BLOCKS}")
        if ("bilinear" in self.blocks) != (self.rank > 0):
            raise ConfigError("the bilinear block needs rank > 0, and rank needs it")

    @property
    def name(self) -> str:
        """A short name, e.g. ``resp+prod+bilinear16``."""
        return "+".join(f"{b}{self.rank}" if b == "bilinear" else b for b in self.blocks)

    def to_dict(self) -> dict[str, object]:
        """JSON-ready form for ``metadata.json``."""
        return {"blocks": list(self.blocks), "rank": self.rank}

    @classmethod
    def from_dict(cls, data: object) -> FeatureSpec:
        """Inverse of :meth:`to_dict`.

        Raises:
            ConfigError: the data is not a feature spec.
        """
        if not isinstance(data, dict) or not isinstance(data.get("blocks"), list):
            raise ConfigError("metadata 'features' must be {blocks: [...], rank: int}")
        return cls(tuple(str(b) for b in data["blocks"]), int(data.get("rank", 0)))


@dataclass(frozen=True, slots=True)
class Projection:
    """Centred principal directions of one side (prompts or responses).

    Attributes:
        mean: ``(dim,)`` mean embedding.
        basis: ``(dim, rank)`` orthonormal directions.
    """

    mean: Float
    basis: Float

    def apply(self, x: Float) -> Float:
        """Coordinates of rows of ``x`` in the basis, shape ``(n, rank)``."""
        return np.asarray((x - self.mean) @ self.basis, dtype=np.float64)


class Featurizer:
    """Turns prompt and response embeddings into ``phi(p, r)`` rows.

    Args:
        spec: which blocks.
        prompt_proj: projection of prompts (needed by the bilinear block).
        response_proj: projection of responses (needed by the bilinear block).
    """

    def __init__(
        self,
        spec: FeatureSpec,
        prompt_proj: Projection | None = None,
        response_proj: Projection | None = None,
    ) -> None:
        if "bilinear" in spec.blocks and (prompt_proj is None or response_proj is None):
            raise ConfigError("the bilinear block needs prompt and response projections")
        self.spec = spec
        self._pp, self._rp = prompt_proj, response_proj

    @property
    def projections(self) -> tuple[Projection | None, Projection | None]:
        """The (prompt, response) projections of the bilinear block, or Nones."""
        return self._pp, self._rp

    def dim(self, embedding_dim: int) -> int:
        """Width of ``phi`` for embeddings of ``embedding_dim``."""
        per = {"resp": embedding_dim, "prod": embedding_dim, "absdiff": embedding_dim}
        return sum(per.get(b, self.spec.rank**2) for b in self.spec.blocks)

    def transform(self, prompts: Float, responses: Float) -> Float:
        """``phi`` for paired rows, shape ``(n, dim)``.

        Raises:
            ConfigError: the two arrays do not have the same shape.
        """
        p = np.asarray(prompts, dtype=np.float64)
        r = np.asarray(responses, dtype=np.float64)
        if p.shape != r.shape or p.ndim != 2:
            raise ConfigError(f"prompt {p.shape} and response {r.shape} embeddings differ")
        return np.concatenate([self._block(b, p, r) for b in self.spec.blocks], axis=1)

    def _block(self, name: str, p: Float, r: Float) -> Float:
        if name == "resp":
            return r
        if name == "prod":
            return p * r
        if name == "absdiff":
            return np.abs(p - r)
        assert self._pp is not None  # checked in __init__
        assert self._rp is not None
        a, b = self._pp.apply(p), self._rp.apply(r)
        return np.asarray(np.einsum("ni,nj->nij", a, b).reshape(len(p), -1), dtype=np.float64)
