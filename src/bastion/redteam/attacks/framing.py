"""Single-turn template attacks: personas, DAN-style prompts, framings and social pressure.

Each attack wraps the goal's plain request in one template; which template a goal gets
is a stable choice (:func:`~bastion.redteam.base.pick`), so a run covers the templates
across its goals and a rerun sends the same prompts.

``dan_templates`` sends jailbreak templates of the pinned ``attack``-side families only
(:mod:`bastion.datasets.template_families`): detectors train on the other side, so the
attack measures templates they never saw (design note 0043).
"""

from __future__ import annotations

from typing import ClassVar, Literal, Protocol, runtime_checkable

from bastion.core.errors import ConfigError
from bastion.datasets.template_families import load_template_families, template_family
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
    "DanTemplatesConfig",
    "DirectAttack",
    "EmotionalAttack",
    "FictionAttack",
    "PersonaAttack",
    "ResearchAttack",
    "TemplateSender",
    "render",
]


@runtime_checkable
class TemplateSender(Protocol):
    """An attack that sends jailbreak templates of named families."""

    def template_families(self) -> frozenset[str]:
        """Every template family this attack, as configured, can send."""
        ...


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


class DanTemplatesConfig(AttackConfigModel):
    """Options of ``dan_templates``.

    Attributes:
        families: ``attack`` (default): only the pinned attack-side template families,
            which no detector trained or calibrated on; ``all``: every family, train side
            included (an in-distribution check; never for published figures).
    """

    families: Literal["attack", "all"] = "attack"


@attack_plugin(
    name="dan_templates",
    family=Family.ROLEPLAY,
    tags=("template", "dan", "persona"),
    references=("https://github.com/Azure/PyRIT", "https://github.com/NVIDIA/garak"),
    config=DanTemplatesConfig,
)
class DanTemplatesAttack(_TemplateAttack):
    """DAN-style jailbreak templates (attack-side PyRIT, garak and project families)."""

    name = "dan_templates"
    section = "dan"

    def __init__(self, config: AttackConfigModel, deps: AttackDeps) -> None:
        self._families = config.families if isinstance(config, DanTemplatesConfig) else "attack"
        super().__init__(config, deps)

    def _load(self) -> tuple[Template, ...]:
        everything = (*third_party_templates(), *project_templates(self.section))
        if self._families == "all":
            return everything
        attack_side = load_template_families().on_side("attack")
        chosen = tuple(t for t in everything if template_family(t.name) in attack_side)
        if not chosen:
            raise ConfigError("dan_templates: no attack-side template family is available")
        return chosen

    def template_families(self) -> frozenset[str]:
        """The families of the templates this attack can send."""
        return frozenset(template_family(t.name) for t in self._templates)


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
