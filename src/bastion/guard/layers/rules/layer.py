"""The tier-0 rules layer: pattern data per category, tactics, multi-turn and reply checks.

Rules detect, score and tag; they never decide a soft limit on a keyword. A topic
mention scores at most 0.3 (tagged only); an explicit operational request scores
0.6..0.95; tactics raise co-occurring categories or, alone, score ``manipulation``. The
score heuristic is documented in :mod:`~bastion.guard.layers.rules.scoring`, the
multi-turn accumulation in :mod:`~bastion.guard.layers.rules.multiturn` and the output
checks in :mod:`~bastion.guard.layers.rules.response`. The data lives in YAML files
(``data/``), validated and compiled once at construction.
"""

from __future__ import annotations

from dataclasses import replace
from importlib import resources
from pathlib import Path

from bastion.core.text import NormalizedText, View
from bastion.core.types import Intent, Limit
from bastion.core.verdict import Verdict
from bastion.guard.layers.base import CheckRequest, LayerDeps, layer_plugin
from bastion.guard.layers.rules.config import RulesConfig
from bastion.guard.layers.rules.history import HISTORY_TAG, HistoryHarm, history_harm
from bastion.guard.layers.rules.intent import intent_cue
from bastion.guard.layers.rules.loader import load_rules
from bastion.guard.layers.rules.multiturn import Turn, assess, select
from bastion.guard.layers.rules.response import assess_reply
from bastion.guard.layers.rules.scanner import scan_embedded, scan_user
from bastion.guard.layers.rules.scoring import MANIPULATION
from bastion.guard.layers.rules.verdicts import LAYER, reply_verdict, user_verdict

__all__ = ["RulesConfig", "RulesLayer", "packaged_rules_dir"]

_EXTRACTION = "system_prompt_extraction"
_EXTRACTION_TAG = "injection:system_prompt_extraction"


def packaged_rules_dir() -> Path:
    """The directory of the rule data shipped with bastion."""
    return Path(str(resources.files("bastion.guard.layers.rules").joinpath("data")))


@layer_plugin(name=LAYER, tier=0, config=RulesConfig)
class RulesLayer:
    """Tier-0 pattern rules: harm intent, jailbreak and injection tactics, multi-turn, replies.

    Raises:
        RuleError: on construction, when the rule data fails validation (for example a
            rule names a category the policy does not have).
    """

    def __init__(self, config: RulesConfig, deps: LayerDeps) -> None:
        self._cfg = config
        limits = {name: spec.limit for name, spec in deps.policy.lookup.items()}
        self._hard = frozenset(name for name, limit in limits.items() if limit is Limit.HARD)
        self._known = frozenset(limits)
        verify = config.verify if config.verify is not None else config.rules_dir is not None
        self._rules = load_rules(config.rules_dir or packaged_rules_dir(), limits, verify=verify)

    @property
    def name(self) -> str:
        """The layer's registered name."""
        return LAYER

    @property
    def precise(self) -> bool:
        """Categories come from explicit pattern evidence (read by the combiner)."""
        return True

    def check(self, request: CheckRequest) -> Verdict:
        """Score the latest user turn in its conversation, or the reply when there is one."""
        turns = self._turns(request)
        users = request.user_turns()
        cue = intent_cue(users[-1].canonical) if users else None
        if request.response is None and _quiet(turns):
            return Verdict(layer=LAYER, intent=cue)  # the fast path: nothing to add up
        assessment = assess(turns, self._rules, self._hard, self._cfg)
        if request.response is None:
            verdict = self._attack_named(user_verdict(assessment, self._cfg))
            categories = assessment.categories
            history = history_harm(request, self._rules, categories, self._hard, self._cfg)
            if history is not None:
                return _with_history(verdict, history, cue)
            return replace(verdict, intent=cue)
        reply = request.normalized_response or _plain(request.response)
        judged = assess_reply(self._rules, reply, assessment.categories, self._hard, self._cfg)
        return reply_verdict(assessment, judged, reply.techniques, self._cfg)

    def _attack_named(self, verdict: Verdict) -> Verdict:
        """A tactic-only verdict that asks for the system prompt names that attack."""
        if (
            verdict.category != MANIPULATION
            or _EXTRACTION_TAG not in verdict.techniques
            or _EXTRACTION not in self._known
        ):
            return verdict
        ranked = tuple((_EXTRACTION if n == MANIPULATION else n, s) for n, s in verdict.categories)
        return replace(verdict, category=_EXTRACTION, categories=ranked)

    def _turns(self, request: CheckRequest) -> list[Turn]:
        turns = []
        for age, user, index in select(request, self._cfg.history_turns):
            norm = request.normalized[index]
            scan = scan_user(self._rules, norm) if user else scan_embedded(self._rules, norm)
            turns.append(Turn(age, user, norm, scan))
        turns.reverse()  # oldest first
        return turns


def _with_history(verdict: Verdict, history: HistoryHarm, cue: Intent | None) -> Verdict:
    """The user verdict raised by harmful history: the worse of the two decides."""
    techniques = tuple(sorted({*verdict.techniques, HISTORY_TAG}))
    if verdict.score >= history.score and verdict.category is not None:
        return replace(verdict, techniques=techniques, intent=cue)
    others = tuple((n, s) for n, s in verdict.categories if n != history.category)
    return replace(
        verdict,
        score=round(history.score, 4),
        category=history.category,
        categories=((history.category, round(history.score, 4)), *others),
        techniques=techniques,
        evidence=(*history.evidence, *verdict.evidence)[:5],
        intent=cue or Intent.FACILITATE,
    )


def _quiet(turns: list[Turn]) -> bool:
    """No hit and no tactic anywhere, and too few user turns for a split payload."""
    if sum(turn.user for turn in turns) > 1:
        return False
    return all(not (t.scan.harm or t.scan.techniques or t.scan.obfuscation) for t in turns)


def _plain(text: str) -> NormalizedText:
    """A canonical-only reading, for requests built without a normalised reply."""
    folded = text.casefold()
    return NormalizedText(folded, (View("canonical", folded),))
