"""The run summary of a curation: counts, score histograms, duplicate clusters, samples.

The run driver feeds a :class:`SummaryBuilder` every row in corpus order (``add`` for a
processed row, kept or removed; ``add_error`` for a row that could not be read) and calls
``build`` for a frozen, JSON-ready :class:`CurationSummary`. A resumed run keeps one summary
per shard (``OUT/state/<shard>.json``) and combines them with :meth:`CurationSummary.merge`,
which gives what one pass over the shards in order would have given.

Memory is bounded, whatever the corpus, except for the duplicate-cluster counter:

- at most :data:`MAX_KEYS` distinct stages, reasons, harm categories and languages per
  table (further ones are counted under ``(other)``: a stage that puts free text in its
  reason cannot blow up the summary);
- the first :data:`SCORE_SAMPLE` finite scores per stage, and 20 fixed bins over [0, 1];
- the first :data:`ROW_SAMPLES` removed (and flagged) rows per stage and reason, texts cut
  to :data:`EXCERPT_CHARS` characters; the first :data:`ERROR_SAMPLES` unreadable rows.

The cluster counter holds one entry per distinct cluster id the ``dedup`` stage named, so
about 100 bytes per distinct row: ~100 MB for 1,000,000 rows. It must hold the clusters of
size 1 too, because a cluster can span shards (the dedup stage remembers earlier shards):
a row alone in its shard may have its copy in the next one, and only the sum tells.
The report keeps only the size distribution and the largest clusters (design note 0061).

Every string is cut and made encodable (lone surrogates become ``?``), so a summary always
serialises, whatever the rows held.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from bastion.curate.summary_model import (
    ERROR_SAMPLES,
    EXCERPT_CHARS,
    MAX_KEYS,
    OTHER,
    ROW_SAMPLES,
    SCORE_BINS,
    SCORE_SAMPLE,
    CategoryCount,
    CurationSummary,
    ErrorSample,
    LanguageCount,
    SampleRow,
    SampleTable,
    ScoreStats,
    StageStats,
    Totals,
)
from bastion.curate.verdict import CuratedRow, RowAction, StageVerdict

__all__ = [
    "MAX_KEYS",
    "OTHER",
    "SCORE_BINS",
    "SCORE_SAMPLE",
    "CategoryCount",
    "CurationSummary",
    "ErrorSample",
    "LanguageCount",
    "SampleRow",
    "ScoreStats",
    "StageStats",
    "SummaryBuilder",
    "Totals",
]

HARM_STAGE, LANGUAGE_STAGE, DEDUP_STAGE = "harm", "language", "dedup"
_KEY_CHARS = 128
_ACTION_FIELD = {
    RowAction.KEEP: "kept",
    RowAction.DROP: "dropped",
    RowAction.FLAG: "flagged",
    RowAction.REDACT: "redacted",
}


@dataclass(slots=True)
class _Scores:
    count: int = 0
    non_finite: int = 0
    low: float | None = None
    high: float | None = None
    bins: list[int] = field(default_factory=lambda: [0] * SCORE_BINS)
    sample: list[float] = field(default_factory=list)

    def add(self, score: float) -> None:
        try:
            value = float(score)
        except (TypeError, ValueError):
            value = math.nan
        if not math.isfinite(value):
            self.non_finite += 1
            return
        self.count += 1
        self.low = value if self.low is None else min(self.low, value)
        self.high = value if self.high is None else max(self.high, value)
        if 0.0 <= value <= 1.0:
            self.bins[min(int(value * SCORE_BINS), SCORE_BINS - 1)] += 1
        if len(self.sample) < SCORE_SAMPLE:
            self.sample.append(round(value, 6))

    def absorb(self, other: ScoreStats) -> None:
        self.count += other.count
        self.non_finite += other.non_finite
        self.low = _pick(min, self.low, other.low)
        self.high = _pick(max, self.high, other.high)
        self.bins = [a + b for a, b in zip(self.bins, other.bins, strict=True)]
        self.sample.extend(other.sample[: SCORE_SAMPLE - len(self.sample)])

    def freeze(self) -> ScoreStats:
        return ScoreStats(
            count=self.count,
            non_finite=self.non_finite,
            low=self.low,
            high=self.high,
            bins=tuple(self.bins),
            sample=tuple(self.sample),
        )


@dataclass(slots=True)
class _Stage:
    counts: Counter[str] = field(default_factory=Counter)
    reasons: dict[str, dict[str, int]] = field(default_factory=dict)
    scores: _Scores = field(default_factory=_Scores)

    def freeze(self) -> StageStats:
        counts = {key: self.counts[key] for key in ("seen", *_ACTION_FIELD.values())}
        reasons = {action: dict(table) for action, table in self.reasons.items()}
        return StageStats(**counts, reasons=reasons, scores=self.scores.freeze())


class SummaryBuilder:
    """Collects a :class:`CurationSummary` from rows fed in corpus order (not thread-safe:
    one builder per shard, merged afterwards)."""

    def __init__(self) -> None:
        self._totals: Counter[str] = Counter()
        self._stages: dict[str, _Stage] = {}
        self._harm: dict[str, list[int]] = {}  # category -> [removed, flagged]
        self._languages: dict[str, list[int]] = {}  # language -> [kept, removed]
        self._clusters: Counter[str] = Counter()
        self._samples: dict[RowAction, dict[str, dict[str, list[SampleRow]]]] = {
            RowAction.DROP: {},
            RowAction.FLAG: {},
        }
        self._errors: list[ErrorSample] = []
        self._meta: dict[str, Any] = {}

    def add(self, row: CuratedRow) -> None:
        """Count one processed row (kept or removed) and every verdict on it."""
        kept = row.dropped_by is None
        self._totals["rows"] += 1
        self._totals["kept" if kept else "removed"] += 1
        if kept:
            actions = {verdict.action for verdict in row.verdicts}
            self._totals["flagged"] += RowAction.FLAG in actions
            self._totals["redacted"] += RowAction.REDACT in actions
        for verdict in row.verdicts:
            self._verdict(row, verdict, kept)

    def add_error(self, shard: str, line: int, message: str, excerpt: str) -> None:
        """Count a row that could not be read (``line`` 0: the shard itself broke)."""
        self._totals["rows"] += 1
        self._totals["errors"] += 1
        if len(self._errors) < ERROR_SAMPLES:
            self._errors.append(
                ErrorSample(
                    shard=_text(shard, _KEY_CHARS),
                    line=int(line),
                    message=_text(message, EXCERPT_CHARS),
                    excerpt=_text(excerpt, EXCERPT_CHARS),
                )
            )

    def absorb(self, summary: CurationSummary) -> None:
        """Add a summary's counts after the rows added so far (merging shards in order)."""
        self._totals.update(summary.totals.model_dump())
        for name, stats in summary.stages.items():
            stage = self._stage(name)
            stage.counts.update(stats.model_dump(include={"seen", *_ACTION_FIELD.values()}))
            for action, table in stats.reasons.items():
                for reason, count in table.items():
                    _bump(stage.reasons.setdefault(action, {}), reason, count)
            stage.scores.absorb(stats.scores)
        for category, cat in summary.harm.items():
            _add_pair(self._harm, category, cat.removed, cat.flagged)
        for language, lang in summary.languages.items():
            _add_pair(self._languages, language, lang.kept, lang.removed)
        self._clusters.update(summary.clusters)
        self._absorb_samples(RowAction.DROP, summary.removed_samples)
        self._absorb_samples(RowAction.FLAG, summary.flagged_samples)
        self._errors.extend(summary.error_samples[: ERROR_SAMPLES - len(self._errors)])
        self._meta.update(summary.meta)

    def build(self, **meta: Any) -> CurationSummary:
        """The summary so far; ``meta`` (JSON-ready) is stored with it."""
        samples = {
            action: {
                stage: {reason: tuple(rows) for reason, rows in reasons.items()}
                for stage, reasons in table.items()
            }
            for action, table in self._samples.items()
        }
        return CurationSummary(
            totals=Totals(**self._totals),
            stages={name: stage.freeze() for name, stage in self._stages.items()},
            harm={k: CategoryCount(removed=r, flagged=f) for k, (r, f) in self._harm.items()},
            languages={
                k: LanguageCount(kept=a, removed=b) for k, (a, b) in self._languages.items()
            },
            clusters=dict(self._clusters),
            removed_samples=samples[RowAction.DROP],
            flagged_samples=samples[RowAction.FLAG],
            error_samples=tuple(self._errors),
            meta={**self._meta, **meta},
        )

    def _absorb_samples(self, action: RowAction, samples: SampleTable) -> None:
        for stage, reasons in samples.items():
            for reason, rows in reasons.items():
                for sample in rows:
                    self._keep_sample(action, stage, reason, sample)

    def _stage(self, name: str) -> _Stage:
        key = _capped(self._stages, _text(name, _KEY_CHARS))
        stage = self._stages.get(key)
        if stage is None:
            stage = self._stages[key] = _Stage()
        return stage

    def _verdict(self, row: CuratedRow, verdict: StageVerdict, kept: bool) -> None:
        stage = self._stage(verdict.stage)
        stage.counts["seen"] += 1
        stage.counts[_ACTION_FIELD.get(verdict.action, "kept")] += 1
        if verdict.score is not None:
            stage.scores.add(verdict.score)
        details = verdict.details if isinstance(verdict.details, Mapping) else {}
        if verdict.action is not RowAction.KEEP or verdict.reason is not None:
            reason = _text(verdict.reason or "unspecified", _KEY_CHARS)
            reason = _bump(stage.reasons.setdefault(str(verdict.action), {}), reason)
            if verdict.action in self._samples:
                self._sample(row, verdict, reason)
        if verdict.stage == HARM_STAGE and verdict.action in (RowAction.DROP, RowAction.FLAG):
            category = _text(details.get("category") or "unknown", _KEY_CHARS)
            drop = verdict.action is RowAction.DROP
            _add_pair(self._harm, category, int(drop), int(not drop))
        elif verdict.stage == LANGUAGE_STAGE:
            language = _text(details.get("language") or "unknown", _KEY_CHARS)
            _add_pair(self._languages, language, int(kept), int(not kept))
        elif verdict.stage == DEDUP_STAGE and details.get("cluster") is not None:
            self._clusters[_text(details["cluster"], _KEY_CHARS)] += 1

    def _sample(self, row: CuratedRow, verdict: StageVerdict, reason: str) -> None:
        stage = self._samples[verdict.action].get(verdict.stage, {})
        if len(stage.get(reason, ())) >= ROW_SAMPLES:
            return  # the common case: skip building the excerpt
        sample = SampleRow(
            id=_text(row.document.id, _KEY_CHARS),
            reason=reason,
            excerpt=_text(row.document.content, EXCERPT_CHARS),
            score=_finite(verdict.score),
            rule=None if verdict.rule is None else _text(verdict.rule, EXCERPT_CHARS),
            evidence=None if verdict.evidence is None else _text(verdict.evidence, EXCERPT_CHARS),
        )
        self._keep_sample(verdict.action, verdict.stage, reason, sample)

    def _keep_sample(self, action: RowAction, stage: str, reason: str, sample: SampleRow) -> None:
        table = self._samples[action]
        stage_key = _capped(table, _text(stage, _KEY_CHARS))
        reasons = table.setdefault(stage_key, {})
        rows = reasons.setdefault(_capped(reasons, reason), [])
        if len(rows) < ROW_SAMPLES:
            rows.append(sample)


def _text(value: object, limit: int) -> str:
    """``value`` as a string of at most ``limit`` characters that encodes as UTF-8."""
    text = value if isinstance(value, str) else str(value)
    return text[:limit].encode("utf-8", "replace").decode("utf-8")


def _finite(score: object) -> float | None:
    try:
        value = float(score)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


def _capped(table: Mapping[str, object], key: str) -> str:
    """``key``, or :data:`OTHER` once ``table`` holds :data:`MAX_KEYS` other keys."""
    return key if key in table or len(table) < MAX_KEYS else OTHER


def _bump(table: dict[str, int], key: str, count: int = 1) -> str:
    key = _capped(table, key)
    table[key] = table.get(key, 0) + count
    return key


def _add_pair(table: dict[str, list[int]], key: str, first: int, second: int) -> None:
    pair = table.setdefault(_capped(table, key), [0, 0])
    pair[0] += first
    pair[1] += second


def _pick(
    choose: Callable[[float, float], float], a: float | None, b: float | None
) -> float | None:
    if a is None or b is None:
        return a if b is None else b
    return choose(a, b)
