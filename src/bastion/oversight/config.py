"""How the store treats what it records: redaction and what goes to the review queue."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from bastion.oversight.redact import RedactionConfig

__all__ = ["OversightConfig"]


class OversightConfig(BaseModel):
    """Store behaviour, passed to the store's constructor.

    Attributes:
        redaction: personal data redacted from stored text before hashing.
        low_confidence_band: a decision whose score lies within this distance of the
            deciding layer's act threshold is queued as ``low_confidence``; 0 (the default)
            turns it off and leaves review routing to the guard's budgeted ``review`` flag
            (design note 0053), so the queue has one routing decision, not two.
        default_threshold: the act threshold of layers missing from ``thresholds``.
        thresholds: act threshold per layer name (the gateway fills it from the guard).
        write_timeout_s: the longest a write may wait for the database (a lock held by
            another connection or process, the in-process write slot, retries of lost
            races) before it fails with ``RecordError``; the gateway then refuses the
            request. Bounded so a locked store cannot stall every request.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    redaction: RedactionConfig = Field(default_factory=RedactionConfig)
    low_confidence_band: float = Field(default=0.0, ge=0, le=0.5)
    default_threshold: float = Field(default=0.5, ge=0, le=1)
    thresholds: dict[str, float] = Field(default_factory=dict)
    write_timeout_s: float = Field(default=2.0, gt=0, le=60)

    def threshold(self, layer: str) -> float:
        """The act threshold for decisions taken by ``layer``."""
        return self.thresholds.get(layer, self.default_threshold)
