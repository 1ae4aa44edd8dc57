"""The frozen, JSON-ready run summary of a curation, and its JSON file form.

:class:`CurationSummary` is what :class:`~bastion.curate.summary.SummaryBuilder` builds
(see :mod:`bastion.curate.summary` for what is counted and the memory bounds) and what a
resumed run reads back from ``OUT/state/<shard>.json`` and merges.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from bastion.core.errors import InputError

__all__ = [
    "ERROR_SAMPLES",
    "EXCERPT_CHARS",
    "MAX_KEYS",
    "OTHER",
    "ROW_SAMPLES",
    "SCORE_BINS",
    "SCORE_SAMPLE",
    "SUMMARY_FORMAT",
    "CategoryCount",
    "CurationSummary",
    "ErrorSample",
    "LanguageCount",
    "SampleRow",
    "SampleTable",
    "ScoreStats",
    "StageStats",
    "Totals",
]

SUMMARY_FORMAT = "bastion.curation_summary"
SCORE_BINS = 20  # fixed bins over [0, 1] for probability scores
SCORE_SAMPLE = 10_000  # first finite scores kept per stage, binned at report time
ROW_SAMPLES = 5  # removed / flagged rows kept per (stage, reason)
ERROR_SAMPLES = 20
MAX_KEYS = 1_000  # distinct keys per table; the rest are counted under OTHER
OTHER = "(other)"
EXCERPT_CHARS = 300
_KEY_CHARS = 128


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Totals(_Frozen):
    """Row counts of a run: ``rows`` = ``kept`` + ``removed`` + ``errors`` (every input
    row lands in exactly one output); ``redacted`` and ``flagged`` count kept rows."""

    rows: int = 0
    kept: int = 0
    removed: int = 0
    errors: int = 0
    redacted: int = 0
    flagged: int = 0


class ScoreStats(_Frozen):
    """A stage's scores: exact bins over [0, 1], and the first scores for other scales.

    Attributes:
        count: finite scores seen.
        non_finite: NaN or infinite scores (not binned).
        low: the smallest finite score, or None.
        high: the largest finite score, or None.
        bins: 20 equal bins over [0, 1] (1.0 goes in the last); scores outside are not in.
        sample: the first :data:`SCORE_SAMPLE` finite scores (6 decimals), corpus order.
    """

    count: int = 0
    non_finite: int = 0
    low: float | None = None
    high: float | None = None
    bins: tuple[int, ...] = Field(
        default=(0,) * SCORE_BINS, min_length=SCORE_BINS, max_length=SCORE_BINS
    )
    sample: tuple[float, ...] = Field(default=(), max_length=SCORE_SAMPLE)

    @property
    def bounded(self) -> bool:
        """True when every finite score was in [0, 1] (the bins are exact)."""
        return self.low is not None and self.high is not None and 0 <= self.low <= self.high <= 1


class StageStats(_Frozen):
    """What one stage did: verdicts per action, reasons, scores.

    ``reasons`` maps an action (``drop``, ``flag``, ``redact``, or ``keep`` for a keep that
    gave a reason) to reason -> verdicts.
    """

    seen: int = 0
    kept: int = 0
    dropped: int = 0
    flagged: int = 0
    redacted: int = 0
    reasons: dict[str, dict[str, int]] = Field(default_factory=dict)
    scores: ScoreStats = ScoreStats()


class SampleRow(_Frozen):
    """A removed or flagged row, as a reviewer sees it in the report."""

    id: str
    reason: str
    excerpt: str
    score: float | None = None
    rule: str | None = None
    evidence: str | None = None


class ErrorSample(_Frozen):
    """A row that could not be read."""

    shard: str
    line: int
    message: str
    excerpt: str


class LanguageCount(_Frozen):
    """Rows the language stage saw in one language, by outcome."""

    kept: int = 0
    removed: int = 0


class CategoryCount(_Frozen):
    """Rows the harm stage dropped or flagged in one category."""

    removed: int = 0
    flagged: int = 0


SampleTable = dict[str, dict[str, tuple[SampleRow, ...]]]


class CurationSummary(_Frozen):
    """Everything the report shows about a run (or one shard of it), JSON-ready.

    Attributes:
        totals: row counts.
        stages: per stage, in the order stages first gave a verdict.
        harm: per harm category (the ``harm`` stage's ``details["category"]``).
        languages: per language (the ``language`` stage's ``details["language"]``).
        clusters: rows per duplicate cluster id (the ``dedup`` stage's
            ``details["cluster"]``), every cluster including size 1; see the module notes.
        removed_samples: stage -> reason -> the first removed rows.
        flagged_samples: stage -> reason -> the first flagged rows.
        error_samples: the first unreadable rows.
        meta: what the run driver said about the run (source, policy, engine...).
    """

    format: Literal["bastion.curation_summary"] = "bastion.curation_summary"
    version: Literal[1] = 1
    totals: Totals = Totals()
    stages: dict[str, StageStats] = Field(default_factory=dict)
    harm: dict[str, CategoryCount] = Field(default_factory=dict)
    languages: dict[str, LanguageCount] = Field(default_factory=dict)
    clusters: dict[str, int] = Field(default_factory=dict)
    removed_samples: SampleTable = Field(default_factory=dict)
    flagged_samples: SampleTable = Field(default_factory=dict)
    error_samples: tuple[ErrorSample, ...] = ()
    meta: dict[str, Any] = Field(default_factory=dict)

    def merge(self, other: CurationSummary) -> CurationSummary:
        """This summary followed by ``other`` (as one pass over both, in that order)."""
        from bastion.curate.summary import SummaryBuilder  # the builder imports this module

        builder = SummaryBuilder()
        builder.absorb(self)
        builder.absorb(other)
        return builder.build()

    def cluster_sizes(self) -> dict[int, int]:
        """Cluster size -> number of clusters of that size, smallest first."""
        return dict(sorted(Counter(self.clusters.values()).items()))

    def save(self, path: Path) -> None:
        """Write the summary as JSON (atomically: a temporary file, then a rename)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.tmp")
        tmp.write_text(json.dumps(self.model_dump(mode="json"), ensure_ascii=False), "utf-8")
        os.replace(tmp, path)

    @classmethod
    def load(cls, path: Path) -> CurationSummary:
        """Read a summary :meth:`save` wrote.

        Raises:
            InputError: the file cannot be read or is not a curation summary.
        """
        try:
            return cls.model_validate(json.loads(path.read_text("utf-8")))
        except (OSError, ValueError, ValidationError) as exc:
            raise InputError(f"{path}: not a curation summary: {str(exc)[:200]}") from None
