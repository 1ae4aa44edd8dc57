"""Configuration of the rules layer (every field has a default; unknown keys are errors)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, model_validator

from bastion.guard.layers.base import LayerConfigModel

__all__ = ["RulesConfig"]


class RulesConfig(LayerConfigModel):
    """Tuning of the tier-0 rules layer. Scores are heuristic probabilities unsafe, 0..1.

    Attributes:
        rules_dir: directory of rule data files; None uses the packaged ``data/``.
        verify: compile every rule and check it against its examples at construction.
            None (the default) verifies a custom ``rules_dir`` and trusts the packaged
            rules, which the test suite verifies, so that start-up stays fast.
        history_turns: how many of the latest user turns are scanned.
        decay: weight of an earlier turn's evidence per turn of age (``decay ** age``).
        split_window: how many of the latest user turns are joined to catch a payload
            split over turns.
        technique_boost: a jailbreak, injection or obfuscation tactic multiplies the
            remaining risk of a co-occurring category: ``s + (1 - s) * technique_boost``.
        tag_only_cap: the most that evidence which must not act alone may reach (a topic
            mention plus a technique, earlier turns, weak techniques); keep it below the
            combiner's act threshold (0.5).
        manipulation_cap: the highest score of a technique-only verdict (``manipulation``).
        stack_bonus: added to the manipulation score per extra distinct technique.
        crescendo_hard: score of a hard-limit category escalated by a crescendo.
        crescendo_soft: score of a soft category escalated by a crescendo.
        reply_hard_min: response_harmful of a compliant reply to a hard-limit intent.
        compliant_min_chars: replies shorter than this never count as compliant.
        max_evidence: how many matched spans a verdict keeps.
        no_escalation: categories a crescendo never escalates (advice categories: asking
            for specifics about an investment is not an attack).
        history_replies: how many earlier assistant turns are judged as replies for
            harmful history (0: none); see :mod:`~bastion.guard.layers.rules.history`.
        history_harm_min: an earlier reply at or above this harm score makes the latest
            user turn carry its category (0.7, chosen on own data: design note 0056).
    """

    rules_dir: Path | None = None
    verify: bool | None = None
    history_turns: int = Field(default=6, ge=1, le=50)
    decay: float = Field(default=0.85, gt=0.0, le=1.0)
    split_window: int = Field(default=3, ge=1, le=10)
    technique_boost: float = Field(default=0.3, ge=0.0, le=1.0)
    tag_only_cap: float = Field(default=0.45, ge=0.0, le=1.0)
    manipulation_cap: float = Field(default=0.75, ge=0.0, le=1.0)
    stack_bonus: float = Field(default=0.05, ge=0.0, le=0.5)
    crescendo_hard: float = Field(default=0.85, ge=0.0, le=1.0)
    crescendo_soft: float = Field(default=0.6, ge=0.0, le=1.0)
    reply_hard_min: float = Field(default=0.85, ge=0.0, le=1.0)
    compliant_min_chars: int = Field(default=200, ge=0)
    max_evidence: int = Field(default=5, ge=0, le=50)
    no_escalation: tuple[str, ...] = ("medical_advice", "legal_advice", "financial_advice")
    history_replies: int = Field(default=2, ge=0, le=20)
    history_harm_min: float = Field(default=0.7, ge=0.0, le=1.0)

    @model_validator(mode="after")
    def _caps_ordered(self) -> RulesConfig:
        if self.tag_only_cap > self.manipulation_cap:
            raise ValueError("tag_only_cap must not exceed manipulation_cap")
        return self
