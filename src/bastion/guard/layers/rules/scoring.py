"""How rule hits become category scores: the rules layer's documented score heuristic.

``score`` is a heuristic probability that the turn is unsafe, 0..1. Downstream, the
combiner refuses a hard-limit category at >= 0.5 and applies the policy's per-context
action to a soft one at >= 0.5; below that the turn is allowed and the category only tagged.
So the rules are built to respect one invariant: **a keyword alone never reaches 0.5.**

- ``topic`` rules (a mention: "sarin", "hacking") score <= 0.3.
- ``intent`` rules (request cue + harmful action + harmful object in a bounded window:
  "how do I make a pipe bomb") score 0.6..0.95; hard-limit intents >= 0.8.
- A category's score in a message is the best of its hits over every view of the message
  (canonical and decoded).
- Tactics (``jailbreak:*``, ``injection:*``, ``obfuscation:*``) multiply the remaining risk
  of each co-occurring category: ``s' = s + (1 - s) * technique_boost`` (0.3); a category
  with no intent hit stays capped at ``tag_only_cap`` (0.45), so a DAN wrapper around a mere
  topic mention still does not act.
- With tactics but no harm category acting, ``manipulation`` scores the strongest tactic
  (ignore-instructions 0.7, DAN 0.65 ...) plus ``stack_bonus`` per extra distinct tactic,
  capped at ``manipulation_cap``; when only weak tactics are present (hypothetical,
  emotional, research framing: < 0.5 each) it stays below ``tag_only_cap``.
- Earlier turns: see :mod:`~bastion.guard.layers.rules.multiturn`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from bastion.guard.layers.rules.config import RulesConfig
from bastion.guard.layers.rules.records import Hit

__all__ = [
    "BOOSTING_PREFIXES",
    "MANIPULATION",
    "Evidence",
    "boosted",
    "category_scores",
    "decayed",
    "manipulation_score",
    "merged",
    "technique_scores",
]

MANIPULATION = "manipulation"
BOOSTING_PREFIXES = ("jailbreak:", "injection:", "obfuscation:")
_ACT = 0.5  # the combiner's act threshold: weak tactics alone must stay below it


@dataclass(frozen=True, slots=True)
class Evidence:
    """A category's score and whether an explicit-intent rule (or escalation) backs it."""

    score: float
    intent: bool


def category_scores(hits: Iterable[Hit]) -> dict[str, Evidence]:
    """Best score per category over harm hits."""
    scores: dict[str, Evidence] = {}
    for hit in hits:
        best = scores.get(hit.tag)
        if best is None or hit.score > best.score:
            scores[hit.tag] = Evidence(hit.score, hit.intent or (best is not None and best.intent))
    return scores


def technique_scores(hits: Iterable[Hit], *, rename: str | None = None) -> dict[str, float]:
    """Best score per technique; ``rename`` reports every hit under one tag instead."""
    scores: dict[str, float] = {}
    for hit in hits:
        tag = rename or hit.tag
        scores[tag] = max(scores.get(tag, 0.0), hit.score)
    return scores


def merged(base: Mapping[str, Evidence], extra: Mapping[str, Evidence]) -> dict[str, Evidence]:
    """Per category, the stronger of the two (intent wins a tie)."""
    out = dict(base)
    for name, evidence in extra.items():
        have = out.get(name)
        if have is None or (evidence.score, evidence.intent) > (have.score, have.intent):
            out[name] = evidence
    return out


def decayed(scores: Mapping[str, Evidence], age: int, config: RulesConfig) -> dict[str, Evidence]:
    """An earlier turn's evidence: weighted by ``decay ** age`` and capped below acting.

    Earlier turns can tag, and accumulate into a crescendo or a split payload, but never
    act alone: a refused request followed by "thanks, what's the weather?" is allowed.
    """
    weight = config.decay**age
    return {
        name: Evidence(min(ev.score * weight, config.tag_only_cap), False)
        for name, ev in scores.items()
    }


def boosted(
    scores: Mapping[str, Evidence], techniques: Iterable[str], config: RulesConfig
) -> dict[str, Evidence]:
    """Raise co-occurring categories when a jailbreak, injection or obfuscation is present."""
    if not any(t.startswith(BOOSTING_PREFIXES) for t in techniques):
        return dict(scores)
    out: dict[str, Evidence] = {}
    for name, ev in scores.items():
        raised = ev.score + (1.0 - ev.score) * config.technique_boost
        out[name] = Evidence(raised if ev.intent else min(raised, config.tag_only_cap), ev.intent)
    return out


def manipulation_score(techniques: Mapping[str, float], config: RulesConfig) -> float:
    """The ``manipulation`` score of the tactics seen (0 when none scored)."""
    scored = [s for t, s in techniques.items() if s > 0 and t.startswith(BOOSTING_PREFIXES)]
    if not scored:
        return 0.0
    top = max(scored)
    total = min(top + config.stack_bonus * (len(scored) - 1), config.manipulation_cap)
    return total if top >= _ACT else min(total, config.tag_only_cap)
