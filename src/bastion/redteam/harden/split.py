"""Hold-out by hash: which goals and attack variants train, choose and measure.

Three disjoint sides, fixed by SHA-256 of a salt and a name (design notes 0029 and 0045),
pinned for the packaged sets in ``bastion/redteam/data/splits_v1.json``
(:mod:`bastion.redteam.splits`):

- **Goals** (harmful and benign alike) are split per category: within a category, goals
  sorted by ``sha256(salt, category, goal id)`` give their first ``test_share`` to
  ``test``, the next ``dev_share`` to ``dev`` (at least one each when the category has
  three or more; a category of two gives one to ``dev`` and one to ``test``), the rest to
  ``train``.
- **Variants** are what an attack's converter names (``persona:grandma``,
  ``past_tense:historian``, ``dan_templates:pyrit:aim``): each attack's variants, found by
  starting it on every goal for a few seeds (attacks are sans-I/O, so this costs no
  target calls), are sorted by ``sha256(salt, attack, variant)`` and split the same way,
  except that an attack with only two variants holds one out for ``dev`` and ``test``
  together (the two sides then differ by goal only). An attack with a single variant (the
  encodings, many-shot, scripted crescendo and PAIR) is a fixed transformation: it is held
  out by goal only.

``train`` is what the loop learns from; ``dev`` is what chooses (the kept round, early
stopping, thresholds); ``test`` is read once, by the final measurement of the kept guard.

:class:`HoldoutAttack` wraps an attack so that, for each goal, it runs with the first seed
whose first probe uses a variant of the wanted side.
"""

from __future__ import annotations

import hashlib
import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Final, Literal

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
    "DEV_SHARE",
    "NO_VARIANT",
    "SIDES",
    "SPLIT_SALT",
    "TEST_SHARE",
    "GoalSplit",
    "HoldoutAttack",
    "Side",
    "VariantSplit",
    "split_goals",
    "split_names",
    "variant_of",
]

Side = Literal["train", "dev", "test"]
SIDES: Final[tuple[Side, ...]] = ("train", "dev", "test")
SPLIT_SALT: Final = "bastion-splits-v1"
DEV_SHARE: Final = 0.2
TEST_SHARE: Final = 0.3


def _rank(salt: str, *parts: str) -> bytes:
    return hashlib.sha256("\x00".join((salt, *parts)).encode("utf-8", "replace")).digest()


def _take(share: float, n: int) -> int:
    return max(1, math.floor(share * n + 0.5))


def split_names(
    names: Iterable[str],
    salt: str,
    *,
    key: str = "",
    shares: tuple[float, float] = (DEV_SHARE, TEST_SHARE),
    pair_shared: bool = False,
) -> dict[Side, frozenset[str]]:
    """``names`` by side: the first ``test`` share by hash, the next ``dev`` share, the rest
    ``train``. One name: all ``train``. Two names: one ``train`` and one held out, for
    ``dev`` and ``test`` together with ``pair_shared`` (else one ``dev``, one ``test``)."""
    ordered = sorted(set(names), key=lambda n: _rank(salt, key, n))
    if len(ordered) < 2:
        return {"train": frozenset(ordered), "dev": frozenset(), "test": frozenset()}
    if len(ordered) == 2:
        first, second = ordered
        if pair_shared:
            held = frozenset({first})
            return {"train": frozenset({second}), "dev": held, "test": held}
        return {"train": frozenset(), "dev": frozenset({second}), "test": frozenset({first})}
    dev_share, test_share = shares
    n = len(ordered)
    n_test = min(n - 2, _take(test_share, n))
    n_dev = min(n - 1 - n_test, _take(dev_share, n))
    return {
        "test": frozenset(ordered[:n_test]),
        "dev": frozenset(ordered[n_test : n_test + n_dev]),
        "train": frozenset(ordered[n_test + n_dev :]),
    }


@dataclass(frozen=True, slots=True)
class GoalSplit:
    """Goals by side, each in file order."""

    train: tuple[Goal, ...]
    dev: tuple[Goal, ...]
    test: tuple[Goal, ...]

    def side(self, side: Side) -> tuple[Goal, ...]:
        """The goals of one side."""
        return {"train": self.train, "dev": self.dev, "test": self.test}[side]


def split_goals(
    goals: Sequence[Goal],
    salt: str,
    shares: tuple[float, float] = (DEV_SHARE, TEST_SHARE),
) -> GoalSplit:
    """Goals split by side, stratified by category (file order kept)."""
    by_category: dict[str, list[str]] = defaultdict(list)
    for goal in goals:
        by_category[goal.category].append(goal.id)
    where: dict[str, Side] = {}
    for category, ids in by_category.items():
        for side, names in split_names(ids, salt, key=category, shares=shares).items():
            where.update(dict.fromkeys(names, side))
    return GoalSplit(
        *(tuple(g for g in goals if where.get(g.id, "train") == side) for side in SIDES)
    )


def variant_of(converter: str) -> str:
    """The variant a converter names: itself, less any per-step suffix of multi-turn ones."""
    return converter.split(":step", 1)[0].split(":round", 1)[0]


@dataclass(frozen=True, slots=True)
class VariantSplit:
    """Every attack's variants by side (an attack absent, or with one variant, has a
    single variant shared by every side).

    Attributes:
        sides: ``attack -> side -> variants``.
        seen: ``attack -> every variant found``.
    """

    sides: dict[str, dict[Side, frozenset[str]]]
    seen: dict[str, frozenset[str]]

    @classmethod
    def discover(
        cls,
        plugins: Sequence[AttackPlugin],
        goals: Sequence[Goal],
        *,
        salt: str,
        shares: tuple[float, float] = (DEV_SHARE, TEST_SHARE),
        seeds: int = 8,
    ) -> VariantSplit:
        """Start every attack on every goal for ``seeds`` seeds and split what it used."""
        seen: dict[str, frozenset[str]] = {}
        sides: dict[str, dict[Side, frozenset[str]]] = {}
        for plugin in plugins:
            variants = {
                variant_of(_first_probe(attack, goal).converter)
                for attack in _instances(plugin, range(seeds))
                for goal in goals
            }
            seen[plugin.name] = frozenset(variants)
            sides[plugin.name] = split_names(
                variants, salt, key=plugin.name, shares=shares, pair_shared=True
            )
        return cls(sides, seen)

    def held_out(self, attack: str) -> frozenset[str]:
        """The attack's variants that never train (empty: a single-variant attack)."""
        by_side = self.sides.get(attack, {})
        return by_side.get("dev", frozenset()) | by_side.get("test", frozenset())

    def allows(self, attack: str, converter: str, side: Side) -> bool:
        """Whether a probe's variant may be used on ``side`` (a single-variant attack's
        one variant is on every side: it is held out by goal only)."""
        if not self.held_out(attack):
            return True
        return variant_of(converter) in self.sides[attack][side]

    def to_dict(self) -> dict[str, dict[str, list[str]]]:
        """JSON-ready: the held-out variants of each attack that has any."""
        return {
            attack: {side: sorted(names) for side, names in by_side.items()}
            for attack, by_side in sorted(self.sides.items())
            if self.held_out(attack)
        }


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
        side: ``train``, ``dev`` or ``test``.
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
            if self._split.allows(self._name, probe.converter, self._side):
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
