"""The pinned train / dev / test splits of everything that chooses or measures a guard.

One manifest, ``bastion/redteam/data/splits_v1.json``, written once by
``bastion splits write`` and verified by ``bastion splits verify`` (and a test), holds
for every held-out set what lies on each side:

- ``redteam_goals``: the packaged harmful goals, per category by ``sha256(salt, category,
  id)`` (:func:`bastion.redteam.harden.split.split_goals`): ids per side;
- ``benign_goals``: the packaged benign goals of the look-alikes, the same way: ids;
- ``attack_variants``: every registered attack's variants on those goals, per attack by
  ``sha256(salt, attack, variant)``: names per side (single-variant attacks are held out
  by goal only and are not listed);
- ``benign_prompts``: the shared benign prompts (plus the project contrast sets' safe
  prompts), by ``sha256(text)`` percent 70 / 15 / 15 as the classifiers' training data
  (:func:`bastion.training.data.bucket`): counts and the SHA-256 of each side's sorted texts;
- ``lookalikes``: the safe look-alikes: the training-only contrast pairs (``train``) and
  the contrast set v1's hash-pinned ``dev`` and ``test`` splits: counts and hashes.

``train`` trains, ``dev`` chooses (rounds, thresholds, early stopping, model selection),
``test`` is read once, by the final report (design note 0045).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from importlib import resources
from pathlib import Path
from typing import Any, Final

from bastion.core.errors import InputError
from bastion.redteam.base import Attack, AttackDeps, AttackPlugin, Goal
from bastion.redteam.harden.measure import HELD_OUT_SEED_BASE
from bastion.redteam.harden.split import (
    NO_VARIANT,
    SIDES,
    SPLIT_SALT,
    HoldoutAttack,
    Side,
    VariantSplit,
    split_goals,
)

__all__ = [
    "MANIFEST_FORMAT",
    "NO_VARIANT",
    "build_manifest",
    "diff_manifest",
    "goals_of_split",
    "load_manifest",
    "manifest_path",
    "packaged_variants",
    "side_attacks",
]

MANIFEST_FORMAT: Final = "bastion.splits/1"
MANIFEST_FILE: Final = "data/splits_v1.json"
_VARIANT_SEEDS: Final = 8


def manifest_path() -> Path:
    """The packaged manifest."""
    return Path(str(resources.files("bastion.redteam").joinpath(MANIFEST_FILE)))


def goals_of_split(goals: Sequence[Goal], split: str) -> tuple[Goal, ...]:
    """The goals of one side of the pinned split (``all``: every goal, file order).

    Raises:
        InputError: an unknown split name.
    """
    if split == "all":
        return tuple(goals)
    if split not in SIDES:
        raise InputError(f"unknown split {split!r}; known: all, {', '.join(SIDES)}")
    return split_goals(goals, SPLIT_SALT).side(split)


def _texts_digest(texts: Iterable[str]) -> str:
    joined = "\n".join(sorted(set(texts)))
    return hashlib.sha256(joined.encode("utf-8")).hexdigest()


def _by_side(rows: Sequence[tuple[str, str]]) -> dict[str, Any]:
    """``{side: {count, sha256}}`` of ``(text, side)`` rows."""
    out: dict[str, Any] = {}
    for side in SIDES:
        texts = {t for t, s in rows if s == side}
        out[side] = {"count": len(texts), "sha256": _texts_digest(texts)}
    return out


def _goal_sides(goals: Sequence[Goal]) -> dict[str, list[str]]:
    split = split_goals(goals, SPLIT_SALT)
    return {side: [g.id for g in split.side(side)] for side in SIDES}


def _benign_prompts(shared_data: Path) -> dict[str, Any]:
    from bastion.training.data import load_examples

    rows = [(e.text, e.split) for e in load_examples(shared_data) if e.label == 0]
    return {"rule": "sha256(text) percent: train < 70 <= dev < 85 <= test"} | _by_side(rows)


def _lookalikes() -> dict[str, Any]:
    from bastion.datasets import load_contrast_set
    from bastion.datasets.contrast_train import load_contrast_training_set

    rows = [(p.safe, "train") for p in load_contrast_training_set()]
    rows += [(p.safe, p.split) for p in load_contrast_set()]
    rule = "contrast_v2_train: train; contrast_v1: sha256(pair id) percent < 70 dev, else test"
    return {"rule": rule} | _by_side(rows)


def build_manifest(shared_data: Path) -> dict[str, Any]:
    """The manifest as the code and data now split them."""
    from bastion.redteam.goals import load_goals
    from bastion.redteam.harden.examples import benign_goals

    goals, benign = load_goals(), benign_goals()
    return {
        "format": MANIFEST_FORMAT,
        "salt": SPLIT_SALT,
        "roles": {
            "train": "trains models and heads",
            "dev": "chooses: rounds, thresholds, early stopping, model selection",
            "test": "read once, by the final report",
        },
        "redteam_goals": _goal_sides(goals),
        "benign_goals": _goal_sides(benign),
        "attack_variants": packaged_variants().to_dict(),
        "benign_prompts": _benign_prompts(shared_data),
        "lookalikes": _lookalikes(),
    }


def load_manifest(path: Path | None = None) -> dict[str, Any]:
    """The pinned manifest.

    Raises:
        InputError: it is missing or not a manifest.
    """
    file = path or manifest_path()
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InputError(f"{file}: cannot read the split manifest: {exc}") from None
    if not isinstance(data, dict) or data.get("format") != MANIFEST_FORMAT:
        raise InputError(f"{file}: not a {MANIFEST_FORMAT} manifest")
    return data


def diff_manifest(pinned: dict[str, Any], now: dict[str, Any]) -> list[str]:
    """What differs between the pinned manifest and the split as computed now (one line
    per top-level entry that differs; empty when they agree)."""
    keys = sorted(set(pinned) | set(now))
    return [
        f"{key}: pinned {_short(pinned.get(key))} != now {_short(now.get(key))}"
        for key in keys
        if pinned.get(key) != now.get(key)
    ]


def _short(value: Any) -> str:
    text = json.dumps(value, sort_keys=True)
    return text if len(text) <= 120 else text[:117] + "..."


def packaged_variants() -> VariantSplit:
    """The pinned variant split of every registered attack (as in the manifest)."""
    from bastion.redteam.goals import load_goals
    from bastion.redteam.harden.examples import benign_goals
    from bastion.redteam.registry import build_attack_registry, select_attacks

    plugins = select_attacks(build_attack_registry(), "all")
    everything = (*load_goals(), *benign_goals())
    return VariantSplit.discover(plugins, everything, salt=SPLIT_SALT, seeds=_VARIANT_SEEDS)


def side_attacks(
    plugins: Sequence[AttackPlugin], side: str, deps: AttackDeps
) -> tuple[tuple[AttackPlugin, Attack], ...]:
    """The attacks built for one side: every attack as configured for ``all`` and
    ``train``; for ``dev`` and ``test``, each limited to that side's variants (held-out
    seeds, as in the final measurement of ``bastion harden``). A goal with no variant on
    the side ends before any probe with the note :data:`NO_VARIANT`: leave it out."""
    if side not in ("dev", "test"):
        return tuple((p, p.build(p.config_model(), deps)) for p in plugins)
    split = packaged_variants()
    seeds = range(HELD_OUT_SEED_BASE, HELD_OUT_SEED_BASE + _VARIANT_SEEDS)
    chosen: Side = "dev" if side == "dev" else "test"
    return tuple((p, HoldoutAttack(p, split, chosen, seeds, deps)) for p in plugins)
