"""What a stage says about a row, and what the curation decided."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from bastion.curate.document import Document

__all__ = ["CuratedRow", "RowAction", "StageVerdict"]


class RowAction(StrEnum):
    """A stage's verdict on a row, from mildest to strongest.

    ``flag`` keeps the row and marks it (for a human look, or a rewrite); ``redact`` keeps
    it with text replaced (personal data); ``drop`` removes it.
    """

    KEEP = "keep"
    FLAG = "flag"
    REDACT = "redact"
    DROP = "drop"


@dataclass(frozen=True, slots=True)
class StageVerdict:
    """One stage's verdict on one row.

    Attributes:
        stage: the stage's registered name.
        action: keep, flag, redact or drop.
        score: the stage's main score (its scale is the stage's), or None.
        reason: a short machine-readable reason (``too_short``, ``near_duplicate``,
            ``harm:violent_crimes``...), None for a plain keep.
        rule: the rule or policy entry that decided (``gopher.min_words``,
            ``policy:violent_crimes/facilitate@pretraining -> refuse``), or None.
        evidence: a short excerpt or explanation a reviewer can check, or None.
        details: further JSON-ready numbers (per-category scores, counts...).
    """

    stage: str
    action: RowAction
    score: float | None = None
    reason: str | None = None
    rule: str | None = None
    evidence: str | None = None
    details: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form, empty fields left out."""
        out: dict[str, Any] = {"stage": self.stage, "action": self.action.value}
        if self.score is not None:
            out["score"] = round(self.score, 4)
        for key in ("reason", "rule", "evidence"):
            value = getattr(self, key)
            if value is not None:
                out[key] = value
        if self.details:
            out["details"] = self.details
        return out


@dataclass(frozen=True, slots=True)
class CuratedRow:
    """A row after the stages: the (possibly redacted) document and every verdict.

    Attributes:
        document: the row, with redactions applied.
        verdicts: the verdicts of the stages that ran, in order. Stages after a ``drop``
            do not run (their cost is saved; the removal names the first stage that
            dropped the row).
    """

    document: Document
    verdicts: tuple[StageVerdict, ...]

    @property
    def dropped_by(self) -> StageVerdict | None:
        """The verdict that removed the row, or None when it is kept."""
        return next((v for v in self.verdicts if v.action is RowAction.DROP), None)

    @property
    def kept(self) -> bool:
        """True when no stage dropped the row."""
        return self.dropped_by is None

    def with_verdict(self, verdict: StageVerdict) -> CuratedRow:
        """A copy with ``verdict`` appended."""
        return CuratedRow(self.document, (*self.verdicts, verdict))
