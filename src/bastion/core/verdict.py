"""Typed, immutable results: a layer's :class:`Verdict` and the guard's :class:`Decision`.

Score convention, everywhere in bastion: ``score`` is the probability (or, for heuristic
layers, a documented heuristic estimate) that the turn is unsafe, in ``[0, 1]``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bastion.core.text import View
from bastion.core.types import Action, Intent, Limit

__all__ = ["Decision", "Verdict"]


@dataclass(frozen=True, slots=True)
class Verdict:
    """What one layer concluded about one turn.

    Attributes:
        layer: the layer's registered name.
        score: probability unsafe of the top category, 0..1.
        category: the top policy category, or None when nothing was detected.
        categories: every detected category with its score, highest first.
        techniques: jailbreak, manipulation and obfuscation tactics seen.
        evidence: short spans that triggered the layer, for reviewers.
        action: an action the layer proposes itself (a judge may); None leaves the
            decision to the combining policy and the policy file.
        error: set when the layer failed; the guard then fails closed.
        latency_ms: wall time the layer took.
        response_refusal: for output checks, probability the reply is a refusal.
        response_harmful: for output checks, probability the reply is harmful.
        response_kind: for output checks judged by a model, what the reply is:
            ``refusal`` | ``partial`` | ``compliance``.
        intent: what the turn wants done with the category (:class:`Intent`), when the
            layer can tell; None leaves it to the policy's ``default_intent``.
    """

    layer: str
    score: float = 0.0
    category: str | None = None
    categories: tuple[tuple[str, float], ...] = ()
    techniques: tuple[str, ...] = ()
    evidence: tuple[str, ...] = ()
    action: Action | None = None
    error: str | None = None
    latency_ms: float = 0.0
    response_refusal: float | None = None
    response_harmful: float | None = None
    response_kind: str | None = None
    intent: Intent | None = None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {
            "layer": self.layer,
            "score": round(self.score, 4),
            "category": self.category,
            "intent": self.intent.value if self.intent else None,
            "categories": {name: round(value, 4) for name, value in self.categories},
            "techniques": list(self.techniques),
            "evidence": list(self.evidence),
            "action": self.action.value if self.action else None,
            "error": self.error,
            "latency_ms": round(self.latency_ms, 3),
            "response_refusal": self.response_refusal,
            "response_harmful": self.response_harmful,
            "response_kind": self.response_kind,
        }


@dataclass(frozen=True, slots=True)
class Decision:
    """The guard's decision for one turn: what to do, and why.

    Attributes:
        action: ``allow`` | ``caution`` | ``ask_context`` | ``refuse``.
        review: send this turn to human review.
        score: probability unsafe, 0..1.
        category: the deciding policy category, or None.
        limit: ``hard`` | ``soft`` | ``encouraged`` | ``none``.
        techniques: jailbreak / manipulation / obfuscation tactics detected.
        layer: the layer whose verdict decided (``guard`` for guard-level decisions).
        explanation: one sentence that can be shown to the user.
        alternative: for ``refuse``, a safer thing the assistant can offer.
        guidance: encouraged behaviour for the assistant (crisis resources, balance...).
        context: the deployment context the policy was applied in.
        policy: ``name@version`` of the policy used.
        decoded: decoded forms of obfuscated input (base64, rot13, ...), kept for review.
        verdicts: every layer's verdict, in the order they ran.
        error: set when the guard failed closed, saying what failed.
        response_refusal: output checks only: is the assistant's reply a refusal.
        response_harmful: output checks only: is the assistant's reply harmful.
        response_kind: output checks only, when a model judged the reply: ``refusal`` |
            ``partial`` | ``compliance``.
        intent: the intent the policy was applied with (None: no category decided).
        code: the deciding category's hazard code (Llama Guard / MLCommons ``S1``..``S14``),
            None for categories without one (prompt attacks, custom categories).
        subcategory: the finer hazard the layer named (``cybersecurity`` under
            ``non_violent_crimes``), when there is one.
    """

    action: Action
    review: bool
    score: float
    category: str | None
    limit: Limit
    techniques: tuple[str, ...]
    layer: str
    explanation: str
    alternative: str | None = None
    guidance: tuple[str, ...] = ()
    context: str = "general"
    policy: str = ""
    decoded: tuple[View, ...] = ()
    verdicts: tuple[Verdict, ...] = field(default=(), repr=False)
    error: str | None = None
    response_refusal: bool | None = None
    response_harmful: bool | None = None
    response_kind: str | None = None
    intent: Intent | None = None
    code: str | None = None
    subcategory: str | None = None

    def to_dict(self, *, verdicts: bool = True) -> dict[str, Any]:
        """A JSON-ready dict; ``verdicts=False`` leaves the per-layer detail out."""
        data: dict[str, Any] = {
            "action": self.action.value,
            "review": self.review,
            "score": round(self.score, 4),
            "category": self.category,
            "subcategory": self.subcategory,
            "code": self.code,
            "intent": self.intent.value if self.intent else None,
            "limit": self.limit.value,
            "techniques": list(self.techniques),
            "layer": self.layer,
            "explanation": self.explanation,
            "alternative": self.alternative,
            "guidance": list(self.guidance),
            "context": self.context,
            "policy": self.policy,
            "decoded": [{"method": v.method, "text": v.text} for v in self.decoded],
            "error": self.error,
        }
        if self.response_refusal is not None or self.response_harmful is not None:
            data["response_refusal"] = self.response_refusal
            data["response_harmful"] = self.response_harmful
        if self.response_kind is not None:
            data["response_kind"] = self.response_kind
        if verdicts:
            data["verdicts"] = [v.to_dict() for v in self.verdicts]
        return data
