"""Rewrite attacks: tense changes, many-shot priming and language switching."""

from __future__ import annotations

from bastion.core.types import Message, Role
from bastion.redteam.attacks._data import Template, load_data, project_templates
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

__all__ = ["FutureTenseAttack", "LanguageSwitchAttack", "ManyShotAttack", "PastTenseAttack"]

_TENSE_REF = (
    "Andriushchenko & Flammarion 2024, 'Does Refusal Training Generalize to the Past "
    "Tense?' (arXiv:2407.11969)",
)


@attack_plugin(
    name="past_tense", family=Family.OBFUSCATION, tags=("rewrite", "tense"), references=_TENSE_REF
)
class PastTenseAttack:
    """The request rewritten in the past tense ('How did people ... back then?')."""

    section = "past_tense"

    def __init__(self, config: AttackConfigModel, deps: AttackDeps) -> None:
        self._seed = config.seed
        self._templates = project_templates(self.section)

    def run(self, goal: Goal) -> AttackRun:
        """One rewritten probe; seed 0 always uses the first wording."""
        return single_turn(_tense_probe(self.section, self._templates, goal, self._seed))


@attack_plugin(
    name="future_tense", family=Family.OBFUSCATION, tags=("rewrite", "tense"), references=_TENSE_REF
)
class FutureTenseAttack(PastTenseAttack):
    """The request rewritten in the future tense ('How will people ... in 2040?')."""

    section = "future_tense"


def _tense_probe(section: str, templates: tuple[Template, ...], goal: Goal, seed: int) -> Probe:
    """The probe of a tense rewrite: the first template for seed 0, else one per goal.

    The converter is the section name for the first template (as in earlier runs) and
    ``section:name`` for the others.
    """
    template = templates[0] if seed == 0 else pick(templates, goal, seed)[1]
    converter = section if template is templates[0] else f"{section}:{template.name}"
    text = fill(template.text, {"task": goal.task})
    return Probe.user(text, original=goal.request, converter=converter)


@attack_plugin(
    name="many_shot",
    family=Family.OBFUSCATION,
    tags=("context", "priming"),
    references=("Anil et al. 2024, 'Many-shot Jailbreaking' (Anthropic)",),
)
class ManyShotAttack:
    """Many faux dialogues in which an assistant complies, then the request."""

    def __init__(self, config: AttackConfigModel, deps: AttackDeps) -> None:
        self._shots = tuple((str(q), str(a)) for q, a in load_data("templates")["many_shot"])

    def run(self, goal: Goal) -> AttackRun:
        """One long user turn: the faux dialogue, then the goal as the next question."""
        dialogue = "\n\n".join(f"User: {q}\nAssistant: {a}" for q, a in self._shots)
        text = f"{dialogue}\n\nUser: {goal.request}\nAssistant:"
        return single_turn(Probe.user(text, original=goal.request, converter="many_shot"))


@attack_plugin(
    name="language_switch",
    family=Family.OBFUSCATION,
    tags=("multilingual", "translation"),
    references=("Yong et al. 2023, 'Low-Resource Languages Jailbreak GPT-4' (arXiv:2310.02446)",),
)
class LanguageSwitchAttack:
    """The request in French, German or Spanish (a fixed translation where the goal has one)."""

    def __init__(self, config: AttackConfigModel, deps: AttackDeps) -> None:
        self._seed = config.seed
        frames = load_data("templates")["language_frames"]
        self._frames = tuple(sorted((str(k), str(v)) for k, v in frames.items()))

    def run(self, goal: Goal) -> AttackRun:
        """A translated request, or an instruction in the language around the English task."""
        if goal.translations:
            _, (lang, text) = pick(goal.translations, goal, self._seed)
            converter = f"language_switch:{lang}:translation"
        else:
            _, (lang, frame) = pick(self._frames, goal, self._seed)
            text = fill(frame, {"task": goal.task})
            converter = f"language_switch:{lang}:frame"
        messages = (Message(Role.USER, text),)
        return single_turn(Probe(messages, goal.request, converter))
