"""Typed, frozen result records of an evaluation run.

Score convention (as everywhere in bastion): ``score`` is the probability, or for the
rule tier a documented heuristic, that the input is unsafe, in ``[0, 1]``. Every rate is a
share in ``[0, 1]`` with its Wilson 95 % interval and the number of samples it rests on
(:mod:`bastion.core.stats`; a statistic that is not a share gets a bootstrap interval).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["CategoryRow", "EvalReport", "ItemResult", "Metric", "SuiteResult"]


@dataclass(frozen=True, slots=True)
class Metric:
    """One measured quantity with its 95 % interval.

    Attributes:
        name: what is measured, e.g. ``unsafe_catch_rate``.
        value: the point estimate (a share, 0..1, for rates).
        low: lower end of the 95 % interval (Wilson for a rate).
        high: upper end of the 95 % interval (Wilson for a rate).
        n: how many samples the value rests on (0: not measurable; value is NaN-free 0).
        higher_is_better: direction, for reports.
    """

    name: str
    value: float
    low: float
    high: float
    n: int
    higher_is_better: bool = True

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (4 decimals)."""
        return {
            "name": self.name,
            "value": round(self.value, 4),
            "low": round(self.low, 4),
            "high": round(self.high, 4),
            "n": self.n,
            "higher_is_better": self.higher_is_better,
        }


@dataclass(frozen=True, slots=True)
class ItemResult:
    """The outcome of one evaluation item.

    Attributes:
        suite: the suite's registered name.
        item_id: stable id of the item inside its suite.
        group: the table row the item counts in (a policy category, a source, a form).
        passed: whether the target behaved as the suite expects.
        expected: what was expected, in words (``not allow``, ``refuse``, ``consistent``).
        got: what happened (an action, or a short summary).
        text: excerpt of the prompt, for reading reports.
        unsafe: the item is a request that should not be answered (None: not applicable).
        score: the target's probability-unsafe score, when it gives one.
        critical: a critical failure (a hard limit that was allowed).
    """

    suite: str
    item_id: str
    group: str
    passed: bool
    expected: str
    got: str
    text: str = ""
    unsafe: bool | None = None
    score: float | None = None
    critical: bool = False

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {
            "suite": self.suite,
            "item_id": self.item_id,
            "group": self.group,
            "passed": self.passed,
            "expected": self.expected,
            "got": self.got,
            "text": self.text,
            "unsafe": self.unsafe,
            "score": None if self.score is None else round(self.score, 4),
            "critical": self.critical,
        }


@dataclass(frozen=True, slots=True)
class CategoryRow:
    """One row of a suite's per-category table: a pass rate with its interval."""

    table: str
    name: str
    metric: Metric

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        data = self.metric.to_dict()
        data["metric"] = data.pop("name")
        return {"table": self.table, "name": self.name, **data}


@dataclass(frozen=True, slots=True)
class SuiteResult:
    """What one suite measured on one target.

    Attributes:
        suite: the suite's registered name.
        description: the suite's one-line description.
        target: the target's name.
        metrics: headline metrics, the first one is the suite's main number.
        rows: per-category (per-source, per-form, per-context) tables.
        items: every item's result.
        critical: critical failures, each listed (hard limits that were allowed).
        worst: the items a reader should look at first (e.g. the least consistent groups).
        notes: what a reader must know (data used, skipped parts, caveats).
        skipped: the suite did not run (no data, or a target it does not apply to).
    """

    suite: str
    description: str
    target: str
    metrics: tuple[Metric, ...] = ()
    rows: tuple[CategoryRow, ...] = ()
    items: tuple[ItemResult, ...] = field(default=(), repr=False)
    critical: tuple[ItemResult, ...] = ()
    worst: tuple[ItemResult, ...] = ()
    notes: tuple[str, ...] = ()
    skipped: bool = False

    def metric(self, name: str) -> Metric | None:
        """The headline metric called ``name``, if any."""
        return next((m for m in self.metrics if m.name == name), None)

    def to_dict(self, *, items: bool = False) -> dict[str, Any]:
        """A JSON-ready dict; ``items=True`` also lists every item."""
        data: dict[str, Any] = {
            "suite": self.suite,
            "description": self.description,
            "target": self.target,
            "skipped": self.skipped,
            "notes": list(self.notes),
            "metrics": [m.to_dict() for m in self.metrics],
            "rows": [r.to_dict() for r in self.rows],
            "critical": [c.to_dict() for c in self.critical],
            "worst": [w.to_dict() for w in self.worst],
            "n_items": len(self.items),
        }
        if items:
            data["items"] = [i.to_dict() for i in self.items]
        return data


@dataclass(frozen=True, slots=True)
class EvalReport:
    """A whole run: the target, the settings and every suite's result.

    Attributes:
        run_id: id shared by every record of the run.
        target: the target's name.
        settings: how the run was made (suites, limit, seed, config file), JSON-ready.
        suites: each suite's result, in run order.
        started_at: ISO 8601 UTC.
        finished_at: ISO 8601 UTC.
    """

    run_id: str
    target: str
    settings: dict[str, Any]
    suites: tuple[SuiteResult, ...]
    started_at: str
    finished_at: str

    def suite(self, name: str) -> SuiteResult | None:
        """The result of suite ``name``, if it ran."""
        return next((s for s in self.suites if s.suite == name), None)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (items left out: they are in the records file)."""
        return {
            "run_id": self.run_id,
            "target": self.target,
            "settings": self.settings,
            "started_at": self.started_at,
            "finished_at": self.finished_at,
            "suites": [s.to_dict() for s in self.suites],
        }
