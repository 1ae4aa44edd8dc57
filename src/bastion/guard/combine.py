"""The cascade combining policy: turns layer verdicts plus the policy file into a decision.

Rules, in order:

1. A layer that failed (error, timeout, unknown category) decides: the configured fail
   action, sent to review, with the error recorded (fail closed, visibly).
2. First hard limit wins: a *precise* layer (pattern rules: explicit evidence) whose
   category is a hard limit with a score at or above ``hard_threshold`` refuses, whatever
   the context.
3. Otherwise every verdict that clears its own layer's act threshold (per layer: its
   configured or calibrated operating threshold, else ``act_threshold``) is a candidate,
   and the candidate with the most severe policy action for (category, context) wins;
   ties go to the higher tier, then the higher score. Detectors are OR-combined: a
   calibrated model cannot silently drop what a precise rule found (crisis support for a
   self-harm message), and rules cannot act on topics because topic scores stay below
   the threshold.
4. A statistical layer says *whether*; where a precise layer found an explicit intent,
   that layer's category says *what* (an exploit request is ``cybersecurity``, which the
   context may allow, not a hard-limit guess of a category head).
5. No candidate: allowed, with the highest tier's score. A layer may propose its own
   action, which counts as a candidate. A reply check whose reply refuses and is not
   harmful is allowed before any of this: the refusal is safe to send, however harmful
   the request (which had its own input check) was.
6. Review: per category (``always`` / ``never``), or ``uncertain`` = the score lies within
   ``review_logit_band`` (log-odds) of the deciding layer's act threshold. The guard then
   spends its review budget on it (:mod:`bastion.guard.review_budget`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import replace

from bastion.core.types import Action, Intent, Limit
from bastion.core.verdict import Decision, Verdict
from bastion.guard.config import CombinerConfig
from bastion.policy.model import CategorySpec, Policy, ReviewMode

__all__ = ["CascadeCombiner"]

_NOTHING = "No policy concern was found."
_DECLINED = "The reply declines the request, so it is safe to send."
_EPS = 1e-6
_ASK = " Could you tell me a bit more about what you need it for?"


class CascadeCombiner:
    """Cascade thresholds plus the policy table; also the pipeline's cascade policy."""

    def __init__(
        self, config: CombinerConfig, policy: Policy, *, fail_action: Action = Action.REFUSE
    ) -> None:
        self._cfg = config
        self._policy = policy
        self._fail_action = fail_action
        self._tiers: dict[str, int] = {}
        self._thresholds: dict[str, float] = {}
        self._precise: frozenset[str] = frozenset()

    def set_layers(
        self,
        tiers: dict[str, int],
        thresholds: dict[str, float] | None = None,
        precise: frozenset[str] = frozenset(),
    ) -> None:
        """Tell the combiner each layer's tier, the act thresholds of layers that have
        their own, and which layers are precise (their categories come from explicit
        evidence, like pattern rules). The guard does this once at build time."""
        self._tiers = dict(tiers)
        self._thresholds = dict(thresholds or {})
        self._precise = frozenset(precise)

    def with_thresholds(self, overrides: Mapping[str, float]) -> CascadeCombiner:
        """A copy with the act thresholds of the layers in ``overrides`` replaced (what-if
        analysis of recorded verdicts: ``Guard.recombine``)."""
        copy = CascadeCombiner(self._cfg, self._policy, fail_action=self._fail_action)
        copy.set_layers(self._tiers, {**self._thresholds, **overrides}, self._precise)
        return copy

    def act_threshold(self, layer: str) -> float:
        """The act threshold for verdicts of ``layer``."""
        return self._thresholds.get(layer, self._cfg.act_threshold)

    def should_continue(self, verdicts: Sequence[Verdict], next_tier: int) -> bool:
        """Run the next tier only where needed: not after an error or a hard limit,
        and not when the tiers so far are confidently safe or confidently unsafe."""
        if any(v.error for v in verdicts) or self._hard_hit(verdicts) is not None:
            return False
        last = verdicts[-1]
        if self._tiers.get(last.layer, 0) == next_tier:
            return True  # layers of one tier always run together
        top = max(v.score for v in verdicts)
        return self._cfg.escalate_low <= top < self._cfg.escalate_high

    def combine(self, verdicts: Sequence[Verdict], context: str) -> Decision:
        """The decision for one turn."""
        failed = next((v for v in verdicts if v.error), None) or self._unknown(verdicts)
        if failed is not None:
            return self._fail(failed, verdicts, context)
        if self._declined(verdicts):
            top = self._authoritative(verdicts)
            score = top.score if top else 0.0
            return self._allow(verdicts, context, score=score, explanation=_DECLINED)
        hard = self._hard_hit(verdicts)
        if hard is not None:
            return self._apply(self._with_cue(hard, verdicts), verdicts, context)
        acting = [
            self._with_cue(self._precise_category(v, verdicts), verdicts)
            for v in verdicts
            if self._acts(v)
        ]
        if not acting:
            top = self._authoritative(verdicts)
            return self._allow(verdicts, context, score=top.score if top else 0.0)
        chosen = max(acting, key=lambda v: self._rank(v, context))
        return self._apply(chosen, verdicts, context)

    def _unknown(self, verdicts: Sequence[Verdict]) -> Verdict | None:
        for v in verdicts:
            if v.category is not None and v.category not in self._policy.lookup:
                return Verdict(layer=v.layer, error=f"unknown category {v.category!r}")
        return None

    def _harmful(self, verdicts: Sequence[Verdict]) -> bool | None:
        """Whether the last layer that judged the reply found it harmful at its own act
        threshold (the one it acts at), so the flag agrees with the action (None: not judged).
        """
        judged = [v for v in verdicts if v.response_harmful is not None]
        if not judged:
            return None
        last = judged[-1]
        return bool((last.response_harmful or 0.0) >= self.act_threshold(last.layer))

    def _declined(self, verdicts: Sequence[Verdict]) -> bool:
        """A reply check whose reply refuses and is not harmful: the reply is safe to
        deliver, however harmful the request was (the request had its own check)."""
        return bool(_flag(verdicts, "response_refusal")) and self._harmful(verdicts) is not True

    def _acts(self, verdict: Verdict) -> bool:
        """The verdict clears its layer's act threshold, or proposes an action itself."""
        if verdict.action not in (None, Action.ALLOW):
            return True
        return verdict.category is not None and verdict.score >= self.act_threshold(verdict.layer)

    def _rank(self, verdict: Verdict, context: str) -> tuple[int, int, float]:
        """Most severe action first, then the higher tier, then the higher score."""
        spec = self._policy.lookup.get(verdict.category or "")
        severity = self._action(verdict, spec, context).severity
        return severity, self._tiers.get(verdict.layer, 0), verdict.score

    def _precise_category(self, verdict: Verdict, verdicts: Sequence[Verdict]) -> Verdict:
        """A statistical layer says *whether*; where a precise (pattern) layer found an
        explicit intent, that layer's category says *what*."""
        if verdict.layer in self._precise or verdict.category is None:
            return verdict
        named = [
            v
            for v in verdicts
            if v.layer in self._precise
            and v.category is not None
            and v.score >= self.act_threshold(v.layer)
        ]
        if not named:
            return verdict
        precise = max(named, key=lambda v: v.score)
        return replace(verdict, category=precise.category, intent=precise.intent or verdict.intent)

    def _with_cue(self, verdict: Verdict, verdicts: Sequence[Verdict]) -> Verdict:
        """An intent a precise layer read from explicit wording ("I want to end my life",
        "without getting caught") outranks a statistical guess of the intent."""
        cue = next((v.intent for v in verdicts if v.layer in self._precise and v.intent), None)
        return replace(verdict, intent=cue) if cue is not None else verdict

    def _hard_hit(self, verdicts: Sequence[Verdict]) -> Verdict | None:
        """First hard limit wins, but only on a precise layer's evidence; a statistical
        layer's hard category goes through :meth:`_precise_category` first."""
        hits = [
            v
            for v in verdicts
            if v.layer in self._precise
            and v.category is not None
            and v.category in self._policy.lookup
            and self._policy.lookup[v.category].limit is Limit.HARD
            and v.score >= self._cfg.hard_threshold
        ]
        return max(hits, key=lambda v: v.score) if hits else None

    def _authoritative(self, verdicts: Sequence[Verdict]) -> Verdict | None:
        if not verdicts:
            return None
        top_tier = max(self._tiers.get(v.layer, 0) for v in verdicts)
        same = [v for v in verdicts if self._tiers.get(v.layer, 0) == top_tier]
        return max(same, key=lambda v: v.score)

    def _apply(self, chosen: Verdict, verdicts: Sequence[Verdict], context: str) -> Decision:
        name = chosen.category
        spec = self._policy.lookup[name] if name else None
        intent = (chosen.intent or self._policy.default_intent) if spec else None
        action = self._action(chosen, spec, context)
        explanation = _explain(spec, action, context, intent)
        return Decision(
            action=action,
            review=self._review(chosen.score, spec, self.act_threshold(chosen.layer)),
            score=chosen.score,
            category=(spec.parent or name) if spec else None,
            subcategory=name if spec and spec.parent else None,
            code=spec.code if spec else None,
            intent=intent,
            limit=spec.limit if spec else Limit.NONE,
            techniques=_techniques(verdicts),
            layer=chosen.layer,
            explanation=explanation,
            alternative=spec.alternative if spec and action is not Action.ALLOW else None,
            guidance=self._guidance(spec),
            context=context,
            policy=self._policy.ref,
            verdicts=tuple(verdicts),
            response_refusal=_flag(verdicts, "response_refusal"),
            response_harmful=self._harmful(verdicts),
            response_kind=_kind(verdicts),
        )

    def _action(self, chosen: Verdict, spec: CategorySpec | None, context: str) -> Action:
        if spec is not None and spec.limit is Limit.HARD and chosen.category is not None:
            # refuse, whatever a layer proposes; only a textbook-level `discuss` row may differ
            return self._policy.action_for(chosen.category, context, chosen.intent)
        if chosen.action is not None:
            return chosen.action
        if chosen.category is None:
            return Action.ALLOW
        return self._policy.action_for(chosen.category, context, chosen.intent)

    def _review(self, score: float, spec: CategorySpec | None, threshold: float) -> bool:
        mode = spec.review if spec else ReviewMode.UNCERTAIN
        if mode is ReviewMode.ALWAYS:
            return True
        if mode is ReviewMode.NEVER:
            return False
        return abs(_logit(score) - _logit(threshold)) < self._cfg.review_logit_band

    def _guidance(self, spec: CategorySpec | None) -> tuple[str, ...]:
        if spec is None:
            return ()
        linked = (self._policy.lookup[name].guidance for name in spec.encourages)
        return tuple(text for text in linked if text)

    def _allow(
        self,
        verdicts: Sequence[Verdict],
        context: str,
        *,
        score: float,
        explanation: str = _NOTHING,
    ) -> Decision:
        layer = verdicts[-1].layer if verdicts else "guard"
        return Decision(
            action=Action.ALLOW,
            review=self._review(score, None, self.act_threshold(layer)),
            score=score,
            category=None,
            limit=Limit.NONE,
            techniques=_techniques(verdicts),
            layer=layer,
            explanation=explanation,
            context=context,
            policy=self._policy.ref,
            verdicts=tuple(verdicts),
            response_refusal=_flag(verdicts, "response_refusal"),
            response_harmful=self._harmful(verdicts),
            response_kind=_kind(verdicts),
        )

    def _fail(self, failed: Verdict, verdicts: Sequence[Verdict], context: str) -> Decision:
        return Decision(
            action=self._fail_action,
            review=True,
            score=max((v.score for v in verdicts if not v.error), default=0.0),
            category=None,
            limit=Limit.NONE,
            techniques=_techniques(verdicts),
            layer=failed.layer,
            explanation="A safety check could not complete, so this turn was handled "
            f"as '{self._fail_action.value}' to stay safe.",
            context=context,
            policy=self._policy.ref,
            verdicts=tuple(verdicts),
            error=failed.error,
        )


def _explain(spec: CategorySpec | None, action: Action, context: str, intent: Intent | None) -> str:
    if spec is None:
        return _NOTHING
    if action is Action.ALLOW:
        return f"{spec.title} is allowed in the '{context}' context."
    if action is Action.ASK_CONTEXT:
        return spec.explanation_for(intent) + _ASK
    return spec.explanation_for(intent)


def _techniques(verdicts: Sequence[Verdict]) -> tuple[str, ...]:
    return tuple(sorted({t for v in verdicts for t in v.techniques}))


def _flag(verdicts: Sequence[Verdict], field: str) -> bool | None:
    """An output-check flag from the last layer that judged the reply (None: not judged)."""
    values = [getattr(v, field) for v in verdicts if getattr(v, field) is not None]
    return bool(values[-1] >= 0.5) if values else None


def _kind(verdicts: Sequence[Verdict]) -> str | None:
    """The reply kind from the last layer that named one (None: no model judged the reply)."""
    kinds = [v.response_kind for v in verdicts if v.response_kind is not None]
    return kinds[-1] if kinds else None


def _logit(p: float) -> float:
    q = min(1.0 - _EPS, max(_EPS, p))
    return math.log(q / (1.0 - q))
