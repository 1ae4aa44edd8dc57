"""Measuring a guard on one held-out side: ``dev`` every round, ``test`` once at the end.

:class:`HoldoutPlan` is the split the loop works under (goals, benign goals and attack
variants by side; :mod:`bastion.redteam.harden.split`). :func:`measure_side` attacks the
side's goals with the side's variants (fixed seeds: the same probes every time), and
measures the benign pass rate on benign prompts of the same side and on look-alikes of the
side's benign goals. The loop calls it on ``dev`` (what chooses); the final measurement
(:mod:`bastion.redteam.harden.final`) calls it on ``test``, once, after the choice.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from bastion.redteam.base import AttackPlugin, Goal, Probe
from bastion.redteam.harden.campaign import SideSpec, attack_side, pass_rate
from bastion.redteam.harden.examples import NOT_BENIGN_WRAPPERS, goal_probes
from bastion.redteam.harden.results import RoundResult
from bastion.redteam.harden.split import (
    GoalSplit,
    HoldoutAttack,
    Side,
    VariantSplit,
    split_goals,
)
from bastion.redteam.judges import GuardDecisionJudge
from bastion.redteam.targets import Target

__all__ = [
    "HELD_OUT_SEED_BASE",
    "HoldoutPlan",
    "SideInputs",
    "lookalike_probes",
    "measure_side",
    "plan_holdout",
]

HELD_OUT_SEED_BASE = 1000  # held-out probes use seeds no training round reaches (rounds < 100)
Progress = Callable[[str, int], Callable[[], None]]


@dataclass(frozen=True, slots=True)
class HoldoutPlan:
    """Goals, benign goals and variants by side, and the seeds of held-out probes."""

    goals: GoalSplit
    benign: GoalSplit
    variants: VariantSplit
    seeds: tuple[int, ...]

    def ids(self) -> dict[str, object]:
        """JSON-ready: every side's goal ids and the held-out variants."""
        out: dict[str, object] = {}
        for side in ("train", "dev", "test"):
            out[side] = [g.id for g in self.goals.side(side)]
            out[f"benign_{side}"] = [g.id for g in self.benign.side(side)]
        out["variants"] = self.variants.to_dict()
        return out


def plan_holdout(
    plugins: Sequence[AttackPlugin],
    goals: Sequence[Goal],
    benign_goals: Sequence[Goal],
    *,
    salt: str,
    shares: tuple[float, float],
    seeds_per_round: int,
) -> HoldoutPlan:
    """The split of ``goals``, ``benign_goals`` and the attacks' variants under ``salt``."""
    variants = VariantSplit.discover(
        plugins, (*goals, *benign_goals), salt=salt, shares=shares, seeds=seeds_per_round
    )
    seeds = tuple(range(HELD_OUT_SEED_BASE, HELD_OUT_SEED_BASE + seeds_per_round))
    return HoldoutPlan(
        split_goals(goals, salt, shares), split_goals(benign_goals, salt, shares), variants, seeds
    )


@dataclass(frozen=True, slots=True)
class SideInputs:
    """What one measurement reads: the side, its benign prompts, where records go."""

    side: Side
    benign_prompts: tuple[str, ...]
    folder: Path
    number: int
    count_caution: bool = False


def measure_side(
    plan: HoldoutPlan,
    plugins: tuple[AttackPlugin, ...],
    target: Target,
    inputs: SideInputs,
    progress: Progress | None = None,
) -> RoundResult:
    """The target's ASR on the side's goals and variants, and its benign pass rates."""
    side, number = inputs.side, inputs.number
    inputs.folder.mkdir(parents=True, exist_ok=True)
    spec = SideSpec(plugins, plan.goals.side(side), plan.variants, side, plan.seeds)
    judge = GuardDecisionJudge(count_caution=inputs.count_caution)
    label = f"round {number}: {side} attacks"
    tick = progress(label, len(spec.plugins) * len(spec.goals)) if progress else None
    record = (f"harden-{number}-{side}", inputs.folder / f"{side}.jsonl")
    attacked = attack_side(spec, target, judge, record=record, tick=tick)
    benign = [Probe.user(t, original=t, converter="benign") for t in inputs.benign_prompts]
    lookalikes = lookalike_probes(plan, plugins, side)
    label = f"round {number}: {side} benign checks"
    tick = progress(label, len(benign) + len(lookalikes)) if progress else None
    return RoundResult(
        round=number,
        side=side,
        attacked=attacked.rate,
        attacked_by_family=attacked.by(lambda f: f.family),
        benign=pass_rate(target, benign, tick),
        lookalike=pass_rate(target, lookalikes, tick),
    )


def lookalike_probes(plan: HoldoutPlan, plugins: Sequence[AttackPlugin], side: Side) -> list[Probe]:
    """Held-out look-alikes: the side's variants of every attack on its benign goals."""
    probes = []
    for plugin in (p for p in plugins if p.name not in NOT_BENIGN_WRAPPERS):
        attack = HoldoutAttack(plugin, plan.variants, side, plan.seeds)
        for goal in plan.benign.side(side):
            probes += goal_probes(attack, goal)
    return probes
