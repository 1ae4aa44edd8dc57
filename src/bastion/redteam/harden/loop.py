"""``bastion harden``: attack, learn from the bypasses, retrain, choose on dev, repeat.

Round 0 measures the starting guard. Each round r >= 1:

1. attacks the *training pool* (training goals x training variants, seeds new to the
   round, plus a batch of pool goals new to the round: requests of the shared data's
   ``train`` split, :mod:`bastion.redteam.harden.pool`) and keeps the bypasses;
2. clusters them by technique (attack and variant) and takes at most
   ``max_per_cluster`` per cluster, labelled unsafe with their goal's category;
3. runs the same attack variants on the training half of the benign goals (interleaved
   with the round's batch of benign pool goals): up to twice as many benign look-alike
   probes per attack, every unit the layer reads of them labelled safe (not for
   many-shot, whose wrapper is harmful by itself);
4. appends both to the regression suite and the training data, fits the round's attack
   head on all of it (:mod:`bastion.redteam.harden.head`: a classifier layer beside the
   shipped one) and writes its artifact; with ``stack_heads`` (the default) the round's
   guard keeps every earlier round's head too, and with ``boost`` (the default) the new
   head is fitted on the round's bypasses (what got past the earlier heads) and every safe
   row so far, so each head specialises on what the stack before it misses;
5. attacks the *dev* side (dev goals x held-out variants, fixed seeds: the same probes
   every round) and measures the benign pass rate on dev benign prompts and on look-alikes
   of dev benign goals.

It stops after ``rounds`` rounds, when the time budget is spent, when the training pool
yields no new bypass, or when the dev ASR fell by less than ``min_gain`` for ``patience``
rounds in a row; it keeps the last round whose dev benign pass rates stayed within
``max_benign_drop`` of round 0's. Everything that chooses reads ``dev``: the loop never
sees a ``test`` goal, variant or prompt (its deps have none). The kept guard is measured on
``test`` once, afterwards, by :func:`bastion.redteam.harden.final.measure_test`. Design
notes 0029, 0035 and 0045.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from bastion.redteam.base import AttackPlugin, Goal
from bastion.redteam.harden.campaign import Attacked, SideSpec, attack_side
from bastion.redteam.harden.examples import (
    NOT_BENIGN_WRAPPERS,
    HardenExample,
    UnitPicker,
    goal_probes,
)
from bastion.redteam.harden.head import BaseSet, Encoder, embed_cached, fit_head, write_artifact
from bastion.redteam.harden.measure import HoldoutPlan, SideInputs, measure_side, plan_holdout
from bastion.redteam.harden.pool import batch
from bastion.redteam.harden.regression import append_cases, check_regression
from bastion.redteam.harden.results import HardenResult, RoundResult
from bastion.redteam.harden.split import DEV_SHARE, SPLIT_SALT, TEST_SHARE, HoldoutAttack
from bastion.redteam.harden.targets import TargetFactory
from bastion.redteam.judges import GuardDecisionJudge
from bastion.redteam.targets import Target

__all__ = [
    "HardenDeps",
    "HardenResult",
    "HardenSettings",
    "RoundResult",
    "holdout_plan",
    "run_harden",
]

Progress = Callable[[str, int], Callable[[], None]]
"""``progress(label, total)`` returns a ``tick`` to call once per item done."""


@dataclass(frozen=True, slots=True)
class HardenSettings:
    """How the loop runs (see the module docstring)."""

    out: Path
    rounds: int = 4
    time_budget_s: float = 3600.0
    min_gain: float = 0.005
    patience: int = 1
    dev_share: float = DEV_SHARE
    test_share: float = TEST_SHARE
    salt: str = SPLIT_SALT
    seeds_per_round: int = 8
    max_per_cluster: int = 30
    count_caution: bool = False
    max_benign_drop: float = 0.02
    pool_goals_per_round: int = 24
    stack_heads: bool = True
    boost: bool = True
    seed: int = 0


@dataclass(frozen=True, slots=True)
class HardenDeps:
    """What the loop works with.

    Attributes:
        plugins: the attacks.
        goals: the harmful goals (split into train, dev and test; the loop uses train and
            dev).
        benign_goals: benign goals for look-alikes (split the same way).
        dev_benign_prompts: benign prompts of the ``dev`` split (what the kept round is
            chosen on; never trained on).
        base: the base training set, embedded.
        encoder: embeds new examples (the same encoder as ``base``).
        target_for: builds the target for a list of attack head artifacts (none: the
            starting guard).
        encoder_info: the ``encoder`` block written into each artifact's metadata.
        align_to: the starting classifier's threshold the attack head is aligned to
            (None: keep its own).
        pool_goals: harmful goals for the training side only, a new batch each round
            (:mod:`bastion.redteam.harden.pool`; never on a held-out side).
        pool_benign_goals: benign goals for the training side's look-alikes, likewise.
        progress: draws progress (None: silent).
        clock: seconds, monotonic.
    """

    plugins: tuple[AttackPlugin, ...]
    goals: tuple[Goal, ...]
    benign_goals: tuple[Goal, ...]
    dev_benign_prompts: tuple[str, ...]
    base: BaseSet
    encoder: Encoder
    target_for: TargetFactory
    encoder_info: dict[str, Any]
    align_to: float | None = None
    pool_goals: tuple[Goal, ...] = ()
    pool_benign_goals: tuple[Goal, ...] = ()
    progress: Progress | None = None
    clock: Callable[[], float] = time.monotonic


@dataclass
class _State:
    settings: HardenSettings
    deps: HardenDeps
    plan: HoldoutPlan
    start: float
    examples: list[HardenExample] = field(default_factory=list)
    seen: set[tuple[str, int]] = field(default_factory=set)
    picker: UnitPicker = field(default_factory=UnitPicker)
    vectors: dict[str, Any] = field(default_factory=dict)
    heads: list[Path] = field(default_factory=list)

    def tick(self, label: str, total: int) -> Callable[[], None] | None:
        return self.deps.progress(label, total) if self.deps.progress else None

    def elapsed(self) -> float:
        return self.deps.clock() - self.start


def holdout_plan(settings: HardenSettings, deps: HardenDeps) -> HoldoutPlan:
    """The split the loop (and the final measurement) works under."""
    return plan_holdout(
        deps.plugins,
        deps.goals,
        deps.benign_goals,
        salt=settings.salt,
        shares=(settings.dev_share, settings.test_share),
        seeds_per_round=settings.seeds_per_round,
    )


def _prepare(settings: HardenSettings, deps: HardenDeps) -> _State:
    return _State(settings, deps, holdout_plan(settings, deps), deps.clock())


def _spec(state: _State, goals: Sequence[Goal], seeds: Sequence[int]) -> SideSpec:
    return SideSpec(state.deps.plugins, tuple(goals), state.plan.variants, "train", tuple(seeds))


def _evaluate(state: _State, target: Target, number: int) -> RoundResult:
    """The round's guard on the dev side: what chooses the kept round."""
    inputs = SideInputs(
        side="dev",
        benign_prompts=state.deps.dev_benign_prompts,
        folder=state.settings.out / "rounds" / str(number),
        number=number,
        count_caution=state.settings.count_caution,
    )
    return measure_side(state.plan, state.deps.plugins, target, inputs, state.deps.progress)


def _interleave(first: Sequence[Goal], second: Sequence[Goal]) -> list[Goal]:
    out: list[Goal] = []
    for i in range(max(len(first), len(second))):
        out += [g[i] for g in (first, second) if i < len(g)]
    return out


def _round_goals(state: _State, number: int) -> tuple[tuple[Goal, ...], tuple[Goal, ...]]:
    """``(harmful, benign)`` training goals of round ``number``: the training pool's, plus
    the round's own batch of pool goals (benign ones interleaved, so a round's look-alikes
    are not all from the same few packaged goals)."""
    size, deps = state.settings.pool_goals_per_round, state.deps
    harmful = (*state.plan.goals.train, *batch(deps.pool_goals, number, size))
    benign = batch(deps.pool_benign_goals, number, 2 * size)
    return harmful, tuple(_interleave(state.plan.benign.train, benign))


def _cluster(
    state: _State, attacked: Attacked, goals: Sequence[Goal], number: int
) -> list[HardenExample]:
    """At most ``max_per_cluster`` new bypass rows per (attack, variant)."""
    by_id = {g.id: g for g in goals}
    taken: Counter[str] = Counter()
    rows = []
    for finding, probe in attacked.bypasses:
        cluster = f"{finding.attack}/{probe.converter}"
        if taken[cluster] >= state.settings.max_per_cluster:
            continue
        row = state.picker.example(
            probe, by_id[finding.goal_id], label=1, where=(finding.attack, number)
        )
        if row is not None and (row.text, 1) not in state.seen:
            state.seen.add((row.text, 1))
            taken[cluster] += 1
            rows.append(row)
    return rows


def _lookalikes(
    state: _State,
    unsafe: Sequence[HardenExample],
    goals: Sequence[Goal],
    seeds: Sequence[int],
    number: int,
) -> list[HardenExample]:
    """As many benign look-alike probes per attack as it has new bypass rows; every unit
    of a look-alike is a safe row."""
    wanted = Counter(row.attack for row in unsafe if row.attack not in NOT_BENIGN_WRAPPERS)
    plugins = {p.name: p for p in state.deps.plugins}
    rows: list[HardenExample] = []
    for name, count in sorted(wanted.items()):
        attack = HoldoutAttack(plugins[name], state.plan.variants, "train", seeds)
        probes = [(g, p) for g in goals for p in goal_probes(attack, g)]
        for goal, probe in probes[: 2 * count]:
            made = state.picker.everything(probe, goal, where=(name, number))
            fresh = [r for r in made if (r.text, 0) not in state.seen]
            state.seen.update((r.text, 0) for r in fresh)
            rows += fresh
    return rows


def _training_rows(state: _State, number: int) -> list[HardenExample]:
    """What the round's head is fitted on: every row so far, or, boosting stacked heads,
    this round's bypasses (what got past the earlier heads) and every safe row so far."""
    if not (state.settings.boost and state.settings.stack_heads):
        return list(state.examples)
    return [r for r in state.examples if r.label == 0 or r.round == number]


def _retrain(state: _State, number: int) -> tuple[Path, float]:
    deps, rows = state.deps, _training_rows(state, number)
    new = [r.text for r in rows if r.text not in state.vectors]
    if new:
        state.vectors.update(zip(new, embed_cached(deps.encoder, new, None, ""), strict=True))
    x = np.asarray([state.vectors[r.text] for r in rows])
    fit = fit_head(deps.base, rows, x, align_to=deps.align_to, seed=state.settings.seed)
    out = state.settings.out / "rounds" / str(number) / "artifact"
    provenance = {"round": number, "examples": len(rows), "salt": state.settings.salt}
    return write_artifact(out, fit, deps.encoder_info, provenance), fit.threshold


def _round(state: _State, number: int, target: Target) -> tuple[RoundResult, Target] | None:
    """One training round; None when the training pool yields nothing new to learn."""
    per = state.settings.seeds_per_round
    seeds = range(number * per, (number + 1) * per)
    goals, benign = _round_goals(state, number)
    spec = _spec(state, goals, seeds)
    judge = GuardDecisionJudge(count_caution=state.settings.count_caution)
    tick = state.tick(f"round {number}: training attacks", len(spec.plugins) * len(spec.goals))
    folder = state.settings.out / "rounds" / str(number)
    folder.mkdir(parents=True, exist_ok=True)
    record = (f"harden-{number}-train", folder / "train.jsonl")
    attacked = attack_side(spec, target, judge, record=record, tick=tick)
    unsafe = _cluster(state, attacked, goals, number)
    if not unsafe:
        return None
    safe = _lookalikes(state, unsafe, benign, seeds, number)
    append_cases(state.settings.out / "regression.jsonl", [*unsafe, *safe])
    state.examples += [*unsafe, *safe]
    artifact, threshold = _retrain(state, number)
    heads = [*state.heads, artifact] if state.settings.stack_heads else [artifact]
    new_target = state.deps.target_for(heads)
    result = _evaluate(state, new_target, number)
    clusters = dict(Counter(f"{r.attack}" for r in unsafe).most_common())
    extra = {
        "train_bypasses": len(attacked.bypasses),
        "train_goals": len(goals),
        "added_unsafe": len(unsafe),
        "added_safe": len(safe),
        "clusters": clusters,
        "regression": check_regression(new_target, state.examples, judge),
        "threshold": threshold,
        "artifact": str(artifact),
        "heads": tuple(str(h) for h in heads),
        "elapsed_s": state.elapsed(),
    }
    state.heads = heads
    return _with(result, **extra), new_target


def _with(result: RoundResult, **changes: Any) -> RoundResult:
    return replace(result, **changes)


def _stalled(results: Sequence[RoundResult], settings: HardenSettings) -> bool:
    """The dev ASR fell by less than ``min_gain`` for ``patience`` rounds in a row."""
    if len(results) <= settings.patience:
        return False
    best_before = min(r.attacked.asr for r in results[: -settings.patience])
    recent = results[-settings.patience :]
    return all(r.attacked.asr > best_before - settings.min_gain for r in recent)


def _choose(results: Sequence[RoundResult], settings: HardenSettings) -> int:
    """The last round whose dev benign pass rates stayed within ``max_benign_drop`` of
    round 0's (round 0, the starting guard, when none did)."""
    first = results[0]
    ok = [
        r.round
        for r in results
        if r.benign.asr >= first.benign.asr - settings.max_benign_drop
        and r.lookalike.asr >= first.lookalike.asr - settings.max_benign_drop
    ]
    return ok[-1] if ok else 0


def run_harden(settings: HardenSettings, deps: HardenDeps) -> HardenResult:
    """Run the loop (see the module docstring); artifacts and records go under ``out``."""
    state = _prepare(settings, deps)
    target = deps.target_for(())
    results = [_with(_evaluate(state, target, 0), elapsed_s=state.elapsed())]
    reason = f"round budget ({settings.rounds}) reached"
    for number in range(1, settings.rounds + 1):
        if state.elapsed() >= settings.time_budget_s:
            reason = f"time budget ({settings.time_budget_s:.0f} s) spent"
            break
        done = _round(state, number, target)
        if done is None:
            reason = "no new bypass on the training pool"
            break
        result, target = done
        results.append(result)
        if _stalled(results, settings):
            reason = f"dev ASR stopped falling (min gain {settings.min_gain:.1%})"
            break
    holdout: dict[str, Any] = state.plan.ids()
    return HardenResult(tuple(results), reason, _choose(results, settings), holdout)
