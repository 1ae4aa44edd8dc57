"""The report's words on who judged: the headline's judge clause and the judge section.

A run judged by a judge that is not independent of its target says ``self-judged`` in the
headline itself, with what the two share (design note 0044).
"""

from __future__ import annotations

from typing import Final

from bastion.redteam.judge_info import Agreement, JudgeCard

__all__ = ["headline", "judge_lines"]

HEADLINE_TASKS: Final = ("gptfuzz_dev", "harm")
"""The labelled sets the headline quotes kappa on (sampled variants when these are absent)."""


def _headline_agreement(card: JudgeCard) -> list[Agreement]:
    main = [a for a in card.agreement if a.task in HEADLINE_TASKS]
    if main:
        return main
    return [a for a in card.agreement if a.task.split("@")[0] in HEADLINE_TASKS]


def _kappas(card: JudgeCard) -> str:
    rows = _headline_agreement(card)
    if not rows:
        return "no agreement figures with human labels"
    said = ", ".join(f"{a.kappa:.2f} on {a.task} (n={a.n})" for a in rows)
    return f"Cohen's kappa with human labels {said}"


def headline(asr: str, card: JudgeCard | None) -> str:
    """The report's first result line: the overall ASR and who judged it."""
    if card is None:
        return f"Overall ASR (judge not recorded): {asr}."
    if not card.independent:
        return (
            f"Overall ASR (**self-judged**: the judge {card.name} shares "
            f"{', '.join(card.shared)} with the target): {asr}; {_kappas(card)}."
        )
    independent = f"independent of the target; {_kappas(card)}"
    return f"Overall ASR: {asr}, judged by {card.name} ({independent})."


def judge_lines(card: JudgeCard | None) -> list[str]:
    """The ``## Judge`` section: independence and the agreement table."""
    if card is None:
        return ["## Judge", "", "No turn was judged, so no judge is recorded.", ""]
    lines = ["## Judge", "", f"`{card.name}`: **{card.label}**; {card.basis}.", ""]
    if not card.agreement:
        note = "No agreement figures with human labels for this judge (`bastion redteam judges`)."
        return [*lines, note, ""]
    lines += ["| labelled set | n | precision | recall | F1 | Cohen's kappa |", "|---" * 6 + "|"]
    lines += [
        f"| {a.task} | {a.n} | {a.precision:.3f} | {a.recall:.3f} | {a.f1:.3f} | {a.kappa:.3f} |"
        for a in card.agreement
    ]
    return [*lines, ""]
