"""The jailbreak / prompt-injection detector layer (tier 1): direct and indirect attacks.

It scores the latest user turn (a *direct* attempt: DAN-style templates, "ignore previous
instructions", system-prompt extraction; a document pasted into the turn is windowed like
any long text) and every message that carries data rather than the operator's or the
user's own words: tool messages, and system / developer messages after the first (an
*indirect* attempt: instructions hidden in retrieved pages, emails, tool outputs). The
operator's own first system message is never scored. Each message is read through its
canonical view and up to ``max_views`` decoded views (base64, rot13, ...), cut into
overlapping MiniLM windows; the verdict's score is the most suspicious window's calibrated
probability, its category ``manipulation`` (the policy decides the action), and, when the
score reaches the detector's operating threshold, its techniques and evidence name the
messages that triggered it:

- ``jailbreak:template`` or ``injection:prompt_injection`` (the kind head's reading) for
  the user turn;
- ``injection:indirect`` for tool / embedded messages (the instruction came from data).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from pydantic import Field

from bastion.core.errors import ConfigError
from bastion.core.types import Role
from bastion.core.verdict import Verdict
from bastion.guard.layers._requirements import MINILM
from bastion.guard.layers.base import CheckRequest, LayerConfigModel, LayerDeps, layer_plugin

if TYPE_CHECKING:
    from bastion.core.text import NormalizedText
    from bastion.models.injection_detector import InjectionScore

__all__ = [
    "LAYER",
    "InjectionDetectorConfig",
    "InjectionDetectorLayer",
    "Segment",
    "segments_of",
    "technique_for",
]

LAYER = "injection_detector"
INDIRECT = "injection:indirect"
DIRECT = "injection:prompt_injection"
TEMPLATE = "jailbreak:template"
_EMBEDDED = (Role.SYSTEM, Role.DEVELOPER)
_MAX_EVIDENCE = 3


class InjectionDetectorConfig(LayerConfigModel):
    """Configuration of the injection detector layer.

    Attributes:
        artifact: detector artifact folder; None uses the packaged one.
        threads: onnxruntime threads for the encoder.
        category: the policy category its verdicts carry.
        scan_tools: score tool messages (indirect injection).
        scan_embedded_system: score system / developer messages after the first one.
        max_views: decoded views (base64, rot13, ...) scored per message besides the
            canonical one.
        max_units: the most units (windows and sentence chunks) one check may score; more
            fails closed (judging only part of a long input would be a bypass). 512 is about
            13,000 word pieces of document; raise it for longer RAG contexts.
        languages: ``all`` scores every text; ``english`` skips texts that are clearly
            not English (the detector flags most non-English prompts: its training
            attacks include non-English ones, its benign texts are English). With
            ``english``, non-English jailbreaks are left to the rules and to the
            multilingual classifier's harm check.
    """

    artifact: Path | None = None
    threads: int = Field(default=1, ge=1, le=64)
    category: str = "manipulation"
    scan_tools: bool = True
    scan_embedded_system: bool = True
    max_views: int = Field(default=3, ge=0, le=16)
    max_units: int = Field(default=512, ge=1, le=100_000)
    languages: Literal["all", "english"] = "all"


@dataclass(frozen=True, slots=True)
class Segment:
    """One text the layer scores.

    Attributes:
        where: which message and view, for evidence (``user turn 2``, ``tool message 3``).
        text: the view's text.
        embedded: the text is data (tool output, later system message), not the user's.
    """

    where: str
    text: str
    embedded: bool


@layer_plugin(name=LAYER, tier=1, config=InjectionDetectorConfig, requires=MINILM)
class InjectionDetectorLayer:
    """Tier-1 jailbreak and prompt-injection detector for user turns and tool outputs.

    Raises:
        ConfigError: on construction when the artifact cannot be loaded or the policy has
            no such category; on first check when the encoder model is missing.
    """

    def __init__(self, config: InjectionDetectorConfig, deps: LayerDeps) -> None:
        # numpy and onnxruntime load only when this layer is built (see classifier.py).
        from bastion.models.encoder import MiniLMEncoder
        from bastion.models.injection_detector import InjectionDetector

        if config.category not in deps.policy.lookup:
            raise ConfigError(f"{LAYER}: the policy has no category {config.category!r}")
        self._cfg = config
        self._detector = InjectionDetector.load(config.artifact)
        self._encoder = MiniLMEncoder(threads=config.threads)  # loads on first check

    @property
    def name(self) -> str:
        """The layer's registered name."""
        return LAYER

    @property
    def operating_threshold(self) -> float:
        """The calibrated act threshold chosen on the dev split (read by the guard)."""
        return self._detector.threshold

    def check(self, request: CheckRequest) -> Verdict:
        """Score the latest user turn and every tool / embedded message; keep the worst."""
        segments = segments_of(request, self._cfg)
        if self._cfg.languages == "english":
            from bastion.models.multilingual import clearly_not_english

            segments = [s for s in segments if not clearly_not_english(s.text)]
        if not segments:
            return Verdict(layer=LAYER)
        scores = self._detector.score(
            self._encoder, [s.text for s in segments], max_units=self._cfg.max_units
        )
        return self._verdict(segments, scores)

    def _verdict(self, segments: list[Segment], scores: list[InjectionScore]) -> Verdict:
        top = max(s.p_attack for s in scores)
        category = self._cfg.category
        flagged = [
            (seg, sc)
            for seg, sc in sorted(zip(segments, scores, strict=True), key=lambda x: -x[1].p_attack)
            if sc.p_attack >= self._detector.threshold
        ]
        return Verdict(
            layer=LAYER,
            score=top,
            category=category,
            categories=((category, top),),
            techniques=tuple(sorted({technique_for(seg, sc) for seg, sc in flagged})),
            evidence=tuple(_evidence(seg, sc) for seg, sc in flagged[:_MAX_EVIDENCE]),
        )


def technique_for(segment: Segment, score: InjectionScore) -> str:
    """The technique tag of a flagged segment."""
    if segment.embedded:
        return INDIRECT
    return TEMPLATE if score.kind == "jailbreak_template" else DIRECT


def _evidence(segment: Segment, score: InjectionScore) -> str:
    return (
        f"{segment.where}, unit {score.window + 1}/{score.windows}, "
        f"p={score.p_attack:.2f}: {score.excerpt!r}"
    )


def segments_of(request: CheckRequest, config: InjectionDetectorConfig) -> list[Segment]:
    """The texts to score: the latest user turn, tool and later system messages."""
    out: list[Segment] = []
    latest_user = max(
        (i for i, m in enumerate(request.messages) if m.role is Role.USER), default=None
    )
    for index, (message, norm) in enumerate(zip(request.messages, request.normalized, strict=True)):
        if index == latest_user:
            out += _views(f"user turn (message {index})", norm, False, config.max_views)
        elif (message.role is Role.TOOL and config.scan_tools) or (
            message.role in _EMBEDDED and index > 0 and config.scan_embedded_system
        ):
            where = f"{message.role.value} message {index}"
            out += _views(where, norm, True, config.max_views)
    return out


def _views(where: str, norm: NormalizedText, embedded: bool, max_views: int) -> list[Segment]:
    seen: set[str] = set()
    out = []
    for view in norm.views[: 1 + max_views]:
        if view.text.strip() and view.text not in seen:
            seen.add(view.text)
            label = where if view.method == "canonical" else f"{where}, {view.method} view"
            out.append(Segment(label, view.text, embedded))
    return out
