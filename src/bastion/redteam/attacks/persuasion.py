"""Persuasion-taxonomy rewrites: the request wrapped in one of 40 persuasion techniques."""

from __future__ import annotations

from bastion.redteam.attacks._data import Template, load_data
from bastion.redteam.attacks.framing import render
from bastion.redteam.base import (
    AttackConfigModel,
    AttackDeps,
    AttackRun,
    Family,
    Goal,
    Probe,
    attack_plugin,
    pick,
    single_turn,
)

__all__ = ["PersuasionAttack", "persuasion_templates"]


def persuasion_templates() -> tuple[Template, ...]:
    """One project-written template per technique of the taxonomy (40)."""
    rows = load_data("persuasion")["techniques"]
    return tuple(Template(str(r["name"]), str(r["template"])) for r in rows)


@attack_plugin(
    name="persuasion",
    family=Family.PERSUASION,
    tags=("template", "persuasion", "pap"),
    references=("Zeng et al. 2024, 'How Johnny Can Persuade LLMs' (arXiv:2401.06373)",),
)
class PersuasionAttack:
    """Persuasion techniques (evidence, authority, scarcity, threats ...) as rewrites."""

    def __init__(self, config: AttackConfigModel, deps: AttackDeps) -> None:
        self._seed = config.seed
        self._templates = persuasion_templates()

    def run(self, goal: Goal) -> AttackRun:
        """One probe: the request rewritten with the technique chosen for this goal."""
        _, technique = pick(self._templates, goal, self._seed)
        text = render(technique.text, goal)
        return single_turn(
            Probe.user(text, original=goal.request, converter=f"persuasion:{technique.name}")
        )
