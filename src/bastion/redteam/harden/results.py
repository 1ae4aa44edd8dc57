"""The records ``bastion harden`` returns: one per round, and the whole run."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bastion.redteam.report.stats import Rate

__all__ = ["HardenResult", "RoundResult"]


@dataclass(frozen=True, slots=True)
class RoundResult:
    """What one round measured on one held-out side (round 0: the starting guard).

    ``side`` is ``dev`` for the rounds of the loop (what chooses) and ``test`` for the one
    final measurement of the kept round; ``attacked`` is the ASR on that side's goals and
    variants, ``benign`` and ``lookalike`` the pass rates on its benign prompts and
    look-alikes.
    """

    round: int
    side: str
    attacked: Rate
    attacked_by_family: dict[str, Rate]
    benign: Rate
    lookalike: Rate
    train_bypasses: int = 0
    train_goals: int = 0
    added_unsafe: int = 0
    added_safe: int = 0
    clusters: dict[str, int] = field(default_factory=dict)
    regression: dict[str, Rate] = field(default_factory=dict)
    threshold: float | None = None
    artifact: str | None = None
    heads: tuple[str, ...] = ()
    elapsed_s: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {
            "round": self.round,
            "side": self.side,
            "asr": self.attacked.to_dict(),
            "asr_by_family": {k: v.to_dict() for k, v in self.attacked_by_family.items()},
            "benign_pass": self.benign.to_dict(),
            "lookalike_pass": self.lookalike.to_dict(),
            "train_bypasses": self.train_bypasses,
            "train_goals": self.train_goals,
            "added_unsafe": self.added_unsafe,
            "added_safe": self.added_safe,
            "clusters": self.clusters,
            "regression": {k: v.to_dict() for k, v in self.regression.items()},
            "threshold": self.threshold,
            "artifact": self.artifact,
            "heads": list(self.heads),
            "elapsed_s": round(self.elapsed_s, 1),
        }


@dataclass(frozen=True, slots=True)
class HardenResult:
    """Every round (measured on ``dev``), why the loop stopped, the round whose artifact
    was kept, and (after :func:`~bastion.redteam.harden.final.measure_test`) the kept
    round measured once on ``test``."""

    rounds: tuple[RoundResult, ...]
    stop_reason: str
    chosen: int
    holdout: dict[str, Any]
    test: RoundResult | None = None
