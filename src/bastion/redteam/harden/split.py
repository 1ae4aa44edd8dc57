"""Hold-out by hash: which goals and which attack variants the hardening loop may train on.

Two disjoint worlds, fixed by SHA-256 of a salt and a name (design note 0029):

- **Goals** (harmful and benign alike) are split per category: within a category, goals
  sorted by ``sha256(salt, goal id)`` give their first ``fresh_share`` (at least one when
  the category has two or more) to the fresh set, the rest to the training pool.
- **Variants** are what an attack's converter names (``persona:grandma``,
  ``past_tense:historian``, ``dan_templates:pyrit:aim``): each attack's variants, found by
  starting it on every goal for a few seeds (attacks are sans-I/O, so this costs no
  target calls), are sorted by ``sha256(salt, attack, variant)`` and split the same way.
  An attack with a single variant (the encodings, many-shot, scripted crescendo and PAIR)
  is a fixed transformation: it is held out by goal only.

:class:`HoldoutAttack` wraps an attack so that, for each goal, it runs with the first seed
whose first probe uses a variant of the wanted side.
"""

from __future__ import annotations

import hashlib
import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

from bastion.redteam.base import (
    Attack,
    AttackDeps,
    AttackPlugin,
    AttackRun,
    Goal,
    Observation,
    Outcome,
    Probe,
)

NO_VARIANT = "no variant on this side"

__all__ = [
    "NO_VARIANT",
    "HoldoutAttack",
    "Side",
    "VariantSplit",
    "split_goals",
    "split_names",
    "variant_of",
]

Side = Literal["train", "fresh"]


def _rank(salt: str, *parts: str) -> bytes:
    return hashlib.sha256("\x00".join((salt, *parts)).encode("utf-8", "replace")).digest()


def split_names(names: Iterable[str], salt: str, share: float, *, key: str = "") -> set[str]:
    """The fresh part of ``names``: the first ``ceil(share * n)`` by hash (none if n < 2)."""
    ordered = sorted(set(names), key=lambda n: _rank(salt, key, n))
    if len(ordered) < 2:
        return set()
    take = min(len(ordered) - 1, max(1, math.floor(share * len(ordered) + 0.5)))
    return set(ordered[:take])


def split_goals(
    goals: Sequence[Goal], salt: str, share: float
) -> tuple[tuple[Goal, ...], tuple[Goal, ...]]:
    """``(train, fresh)`` goals, stratified by category (file order kept)."""
    by_category: dict[str, list[str]] = defaultdict(list)
    for goal in goals:
        by_category[goal.category].append(goal.id)
    fresh: set[str] = set()
    for category, ids in by_category.items():
        fresh |= split_names(ids, salt, share, key=category)
    return (
        tuple(g for g in goals if g.id not in fresh),
        tuple(g for g in goals if g.id in fresh),
    )


def variant_of(converter: str) -> str:
    """The variant a converter names: itself, less any per-step suffix of multi-turn ones."""
    return converter.split(":step", 1)[0].split(":round", 1)[0]


@dataclass(frozen=True, slots=True)
class VariantSplit:
    """The fresh variants of every attack (attacks absent have a single, shared variant)."""

    fresh: dict[str, frozenset[str]]
    seen: dict[str, frozenset[str]]

    @classmethod
    def discover(
        cls,
        plugins: Sequence[AttackPlugin],
        goals: Sequence[Goal],
        *,
        salt: str,
        share: float,
        seeds: int = 8,
    ) -> VariantSplit:
        """Start every attack on every goal for ``seeds`` seeds and split what it used."""
        seen: dict[str, frozenset[str]] = {}
        fresh: dict[str, frozenset[str]] = {}
        for plugin in plugins:
            variants = {
                variant_of(_first_probe(attack, goal).converter)
                for attack in _instances(plugin, range(seeds))
                for goal in goals
            }
            seen[plugin.name] = frozenset(variants)
            fresh[plugin.name] = frozenset(split_names(variants, salt, share, key=plugin.name))
        return cls(fresh, seen)

    def side(self, attack: str, converter: str) -> Side | None:
        """Which side a variant is on; None for a single-variant attack (both sides)."""
        fresh = self.fresh.get(attack, frozenset())
        if not fresh:
            return None
        return "fresh" if variant_of(converter) in fresh else "train"


def _instances(plugin: AttackPlugin, seeds: Iterable[int]) -> list[Attack]:
    return [plugin.build(plugin.config_model(seed=s), AttackDeps()) for s in seeds]


def _first_probe(attack: Attack, goal: Goal) -> Probe:
    run = attack.run(goal)
    try:
        return next(run)
    finally:
        run.close()


class HoldoutAttack:
    """An attack limited to the variants of one side of a :class:`VariantSplit`.

    For each goal it starts the wrapped attack with each of ``seeds`` in turn and runs the
    first one whose first probe is on ``side`` (any seed, for a single-variant attack);
    when no seed gets there, the run ends before any probe with the note
    :data:`NO_VARIANT` (the loop leaves such findings out of its rates).

    Args:
        plugin: the attack's registry entry.
        split: the variant split.
        side: ``train`` or ``fresh``.
        seeds: the seeds to try, in order (a round's own seeds give it new variants).
        deps: attacker model and settings, as for any attack.
    """

    def __init__(
        self,
        plugin: AttackPlugin,
        split: VariantSplit,
        side: Side,
        seeds: Sequence[int],
        deps: AttackDeps | None = None,
    ) -> None:
        self._name, self._split, self._side = plugin.name, split, side
        made = deps or AttackDeps()
        self._attacks = [plugin.build(plugin.config_model(seed=s), made) for s in seeds]

    def run(self, goal: Goal) -> AttackRun:
        """The first seed's run whose variant is on this side, relayed probe by probe."""
        for attack in self._attacks:
            run = attack.run(goal)
            probe = next(run)
            if self._split.side(self._name, probe.converter) in (None, self._side):
                return (yield from _relay(run, probe))
            run.close()
        return Outcome(False, 0.0, NO_VARIANT)  # no probe sent: the loop leaves it out


def _relay(run: AttackRun, first: Probe) -> AttackRun:
    probe = first
    while True:
        seen: Observation = yield probe
        try:
            probe = run.send(seen)
        except StopIteration as stop:
            result: Outcome = stop.value
            return result
