"""Attack success rates with Wilson intervals, by family, attack and category; run diffs
with Newcombe intervals of each difference (both from :mod:`bastion.core.stats`).

ASR = successes / judged trials, where findings with an ``error`` are left out of the
denominator (and counted separately): a target that crashed was not defended.

When the run includes the ``direct`` baseline (the plain request), the summary also has the
*bypass rate*: ASR restricted to the goals whose plain request failed. It separates what a
technique adds from what the target lets through anyway (a policy that answers a
soft-limit request with ``caution`` makes the plain ASR high without any attack).

The summary also lists the jailbreak-template families the run sent and the pinned side of
each (:mod:`bastion.redteam.report.families`, design note 0043).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from bastion.core.stats import newcombe_difference, wilson
from bastion.datasets.template_families import TemplateFamilies, load_template_families
from bastion.redteam.findings import Finding
from bastion.redteam.judge_info import JudgeCard, card_from_findings
from bastion.redteam.report.families import template_families_sent

__all__ = ["Diff", "Rate", "Summary", "diff_runs", "rate_difference", "summarize", "wilson"]

BASELINE = "baseline"


@dataclass(frozen=True, slots=True)
class Rate:
    """An attack success rate with its Wilson 95 % interval."""

    successes: int
    trials: int
    errors: int = 0

    @property
    def asr(self) -> float:
        """successes / trials (0 with no trials)."""
        return self.successes / self.trials if self.trials else 0.0

    @property
    def interval(self) -> tuple[float, float]:
        """Wilson 95 % interval."""
        return wilson(self.successes, self.trials)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        low, high = self.interval
        return {
            "successes": self.successes,
            "trials": self.trials,
            "errors": self.errors,
            "asr": round(self.asr, 4),
            "ci95": [round(low, 4), round(high, 4)],
        }


def rate_difference(old: Rate, new: Rate) -> tuple[float, float, float]:
    """``new.asr - old.asr`` with Newcombe's 95 % interval (:mod:`bastion.core.stats`):
    ``(delta, low, high)``; a negative delta is a lower ASR in the new run. The two runs
    are treated as independent samples, which is conservative when they attacked the same
    (attack, goal) pairs."""
    return newcombe_difference(old.successes, old.trials, new.successes, new.trials)


def _rate(findings: Iterable[Finding]) -> Rate:
    items = list(findings)
    judged = [f for f in items if f.error is None]
    return Rate(sum(f.success for f in judged), len(judged), len(items) - len(judged))


def _group(findings: Sequence[Finding], key: Callable[[Finding], str]) -> dict[str, Rate]:
    groups: dict[str, list[Finding]] = defaultdict(list)
    for finding in findings:
        groups[key(finding)].append(finding)
    return {name: _rate(groups[name]) for name in sorted(groups)}


@dataclass(frozen=True, slots=True)
class Summary:
    """The numbers of one run, and who judged them (``judge``: name, independence of the
    target, agreement with human labels; :mod:`bastion.redteam.judge_info`)."""

    run_ids: tuple[str, ...]
    targets: tuple[str, ...]
    overall: Rate
    by_family: dict[str, Rate]
    by_attack: dict[str, Rate]
    by_category: dict[str, Rate]
    by_family_category: dict[str, dict[str, Rate]]
    examples: tuple[Finding, ...]
    bypass_by_family: dict[str, Rate]
    bypass_goals: int
    template_families: dict[str, Any] = field(default_factory=dict)
    judge: JudgeCard | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready (examples as finding payloads)."""
        return {
            "run_ids": list(self.run_ids),
            "targets": list(self.targets),
            "judge": self.judge.to_dict() if self.judge is not None else None,
            "overall": self.overall.to_dict(),
            "by_family": {k: v.to_dict() for k, v in self.by_family.items()},
            "by_attack": {k: v.to_dict() for k, v in self.by_attack.items()},
            "by_category": {k: v.to_dict() for k, v in self.by_category.items()},
            "by_family_category": {
                fam: {cat: r.to_dict() for cat, r in row.items()}
                for fam, row in self.by_family_category.items()
            },
            "examples": [f.to_payload() for f in self.examples],
            "bypass_goals": self.bypass_goals,
            "bypass_by_family": {k: v.to_dict() for k, v in self.bypass_by_family.items()},
            "template_families": self.template_families,
        }


def summarize(
    findings: Sequence[Finding],
    *,
    examples: int = 2,
    families: TemplateFamilies | None = None,
    judge: JudgeCard | None = None,
) -> Summary:
    """Rates by family, attack, category and family x category, ``examples`` successful
    transcripts per family, and the template families sent (sides from ``families``: the
    pinned manifest unless given). ``judge`` is who judged (the run's record of it);
    without one it is read from the findings (:func:`card_from_findings`)."""
    blocked = _blocked_goals(findings)
    by_fc: dict[str, dict[str, Rate]] = {}
    for family in sorted({f.family for f in findings}):
        members = [f for f in findings if f.family == family]
        by_fc[family] = _group(members, lambda f: f.category)
    return Summary(
        run_ids=tuple(sorted({f.run_id for f in findings})),
        targets=tuple(sorted({f.target for f in findings})),
        overall=_rate(findings),
        by_family=_group(findings, lambda f: f.family),
        by_attack=_group(findings, lambda f: f.attack),
        by_category=_group(findings, lambda f: f.category),
        by_family_category=by_fc,
        examples=_examples(findings, examples, blocked),
        bypass_by_family=_group(_bypass(findings, blocked), lambda f: f.family),
        bypass_goals=len(blocked),
        template_families=template_families_sent(findings, families or load_template_families()),
        judge=judge if judge is not None else card_from_findings(findings),
    )


def _blocked_goals(findings: Sequence[Finding]) -> frozenset[str]:
    """Goals whose plain request (the ``baseline`` family) was judged and failed."""
    return frozenset(
        f.goal_id for f in findings if f.family == BASELINE and f.error is None and not f.success
    )


def _bypass(findings: Sequence[Finding], blocked: frozenset[str]) -> list[Finding]:
    return [f for f in findings if f.goal_id in blocked and f.family != BASELINE]


def _examples(
    findings: Sequence[Finding], per_family: int, blocked: frozenset[str]
) -> tuple[Finding, ...]:
    """Successful findings per family: true bypasses (the plain request failed) first,
    then the shortest transcripts."""
    picked: list[Finding] = []
    for family in sorted({f.family for f in findings}):
        hits = [f for f in findings if f.family == family and f.success]
        hits.sort(
            key=lambda f: (
                f.goal_id not in blocked,
                sum(len(t.prompt) + len(t.reply) for t in f.turns),
                f.goal_id,
            )
        )
        picked.extend(hits[:per_family])
    return tuple(picked)


@dataclass(frozen=True, slots=True)
class Diff:
    """How a run changed against a baseline run (same attacks and goals where both ran).

    Attributes:
        by_family: ``family -> (baseline rate, new rate)``.
        fixed: ``(attack, goal_id)`` pairs that succeeded before and fail now.
        broken: pairs that failed before and succeed now (regressions).
    """

    by_family: dict[str, tuple[Rate, Rate]]
    fixed: tuple[tuple[str, str], ...]
    broken: tuple[tuple[str, str], ...]

    def delta(self, family: str) -> tuple[float, float, float]:
        """``(new ASR - baseline ASR, low, high)`` of ``family``, Newcombe 95 % interval."""
        old, new = self.by_family[family]
        return rate_difference(old, new)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready; each family's ``delta`` (new - baseline) has its ``delta_ci95``."""
        return {
            "by_family": {fam: _delta_dict(old, new) for fam, (old, new) in self.by_family.items()},
            "fixed": [list(k) for k in self.fixed],
            "broken": [list(k) for k in self.broken],
        }


def _delta_dict(old: Rate, new: Rate) -> dict[str, Any]:
    delta, low, high = rate_difference(old, new)
    return {
        "baseline": old.to_dict(),
        "new": new.to_dict(),
        "delta": round(delta, 4),
        "delta_ci95": [round(low, 4), round(high, 4)],
    }


def diff_runs(baseline: Sequence[Finding], new: Sequence[Finding]) -> Diff:
    """Compare two runs on the (attack, goal) pairs both judged without error."""
    old_by = {f.key: f for f in baseline if f.error is None}
    new_by = {f.key: f for f in new if f.error is None}
    shared = sorted(old_by.keys() & new_by.keys())
    old_rates = _group([old_by[k] for k in shared], lambda f: f.family)
    new_rates = _group([new_by[k] for k in shared], lambda f: f.family)
    return Diff(
        by_family={fam: (old_rates[fam], new_rates[fam]) for fam in old_rates},
        fixed=tuple(k for k in shared if old_by[k].success and not new_by[k].success),
        broken=tuple(k for k in shared if new_by[k].success and not old_by[k].success),
    )
