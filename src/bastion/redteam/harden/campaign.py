"""One side of the hold-out attacked: a campaign whose conversations are kept.

The runner keeps, per turn, only the last user message; retraining needs the whole
conversation the guard saw (the layer also reads the recent user turns joined), so the
target is wrapped in a :class:`CapturingTarget` that remembers every probe by
``(request, converter, prompt)``, which a finding's turn names.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from bastion.records import RecordWriter, utc_now
from bastion.redteam.base import AttackDeps, AttackPlugin, Goal, Probe
from bastion.redteam.findings import Finding, finding_record
from bastion.redteam.harden.split import NO_VARIANT, HoldoutAttack, Side, VariantSplit
from bastion.redteam.judges import Judge
from bastion.redteam.report.stats import Rate
from bastion.redteam.runner import Campaign, RunOptions, run_campaign
from bastion.redteam.targets import Target, TargetReply

__all__ = ["Attacked", "CapturingTarget", "SideSpec", "attack_side", "pass_rate"]

Tick = Callable[[], None]


class CapturingTarget:
    """A target that remembers every probe it answered."""

    def __init__(self, inner: Target) -> None:
        self._inner = inner
        self._lock = threading.Lock()
        self.probes: dict[tuple[str, str, str], Probe] = {}

    def answer(self, probe: Probe) -> TargetReply:
        """The inner target's reply; the probe is kept."""
        with self._lock:
            self.probes[(probe.original, probe.converter, probe.prompt)] = probe
        return self._inner.answer(probe)


@dataclass(frozen=True, slots=True)
class SideSpec:
    """Which attacks on which goals, on which side of the split, with which seeds."""

    plugins: tuple[AttackPlugin, ...]
    goals: tuple[Goal, ...]
    split: VariantSplit
    side: Side
    seeds: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class Attacked:
    """A side attacked: its findings (runs with no variant on the side dropped) and the
    probes of their successful turns."""

    findings: tuple[Finding, ...]
    bypasses: tuple[tuple[Finding, Probe], ...]

    @property
    def rate(self) -> Rate:
        """Successes over findings judged without error."""
        ok = [f for f in self.findings if f.error is None]
        errors = len(self.findings) - len(ok)
        return Rate(sum(f.success for f in ok), len(ok), errors)

    def by(self, key: Callable[[Finding], str]) -> dict[str, Rate]:
        """Rates grouped by ``key`` (attack, family ...), sorted by name."""
        groups: dict[str, list[Finding]] = {}
        for f in self.findings:
            groups.setdefault(key(f), []).append(f)
        return {k: Attacked(tuple(v), ()).rate for k, v in sorted(groups.items())}


def attack_side(
    spec: SideSpec,
    target: Target,
    judge: Judge,
    *,
    record: tuple[str, Path | None],
    tick: Tick | None = None,
) -> Attacked:
    """Run the campaign; ``record`` is ``(run id, findings file or None)``."""
    attacks = tuple(
        (p, HoldoutAttack(p, spec.split, spec.side, spec.seeds, AttackDeps())) for p in spec.plugins
    )
    run_id, path = record
    campaign = Campaign(run_id, "guard", attacks, spec.goals)
    capture = CapturingTarget(target)
    found: list[Finding] = []

    def sink(finding: Finding) -> None:
        if finding.note != NO_VARIANT:
            found.append(finding)
        if tick is not None:
            tick()

    writer = RecordWriter(path) if path is not None else None
    try:
        run_campaign(campaign, capture, judge, _writing(sink, writer), options=RunOptions())
    finally:
        if writer is not None:
            writer.close()
    return Attacked(tuple(found), tuple(_bypasses(found, capture.probes)))


def _writing(
    sink: Callable[[Finding], None], writer: RecordWriter | None
) -> Callable[[Finding], None]:
    if writer is None:
        return sink

    def both(finding: Finding) -> None:
        if finding.note != NO_VARIANT:
            writer.write(finding_record(finding, clock=utc_now))
        sink(finding)

    return both


def _bypasses(
    findings: Sequence[Finding], probes: dict[tuple[str, str, str], Probe]
) -> list[tuple[Finding, Probe]]:
    out = []
    for finding in findings:
        hit = next((t for t in finding.turns if t.success), None) if finding.success else None
        probe = probes.get((finding.request, hit.converter, hit.prompt)) if hit else None
        if probe is not None:
            out.append((finding, probe))
    return out


def pass_rate(target: Target, probes: Sequence[Probe], tick: Tick | None = None) -> Rate:
    """How many of ``probes`` (benign) the target lets through unblocked (as a Rate:
    ``successes`` = passed)."""
    passed = 0
    for probe in probes:
        passed += not target.answer(probe).blocked
        if tick is not None:
            tick()
    return Rate(passed, len(probes))
