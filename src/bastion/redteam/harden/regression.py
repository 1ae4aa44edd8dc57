"""The regression suite: every example the loop trained on, as records, re-checkable.

``regression.jsonl`` holds one ``eval_result`` record per case (the shared record format,
``docs/records.md``), appended round by round; a case's payload::

    {"type": "regression_case", "format": "bastion.harden_regression/1", "round": 1,
     "expect": "block", "label": 1, "text": "...", "attack": "past_tense",
     "variant": "past_tense:historian", "goal_id": "drugs.meth", "category": "drugs"}

``expect`` is ``block`` for a bypass (label 1) and ``pass`` for a benign look-alike
(label 0). :func:`check_regression` replays the cases against a target: a guard that
regresses on a bypass it was trained to stop, or starts refusing a look-alike, shows up.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Final

from bastion.records import RecordKind, RecordWriter, new_record, read_records, utc_now
from bastion.redteam.base import Probe
from bastion.redteam.harden.examples import HardenExample
from bastion.redteam.judges import Judge
from bastion.redteam.report.stats import Rate
from bastion.redteam.targets import Target

__all__ = ["CASE_FORMAT", "append_cases", "check_regression", "read_cases"]

CASE_FORMAT: Final = "bastion.harden_regression/1"
_TYPE: Final = "regression_case"


def append_cases(path: Path, examples: Iterable[HardenExample]) -> int:
    """Append one record per example; returns how many were written."""
    count = 0
    with RecordWriter(path) as writer:
        for e in examples:
            payload = {
                "type": _TYPE,
                "format": CASE_FORMAT,
                "round": e.round,
                "expect": "block" if e.label else "pass",
                "label": e.label,
                "text": e.text,
                "attack": e.attack,
                "variant": e.variant,
                "goal_id": e.goal_id,
                "category": e.category,
            }
            writer.write(new_record(RecordKind.EVAL_RESULT, payload, clock=utc_now))
            count += 1
    return count


def read_cases(path: Path) -> list[HardenExample]:
    """The cases of a regression file (other records ignored).

    Raises:
        RecordError: the file is missing or holds a bad line.
    """
    out = []
    for record in read_records(path):
        p = record.payload
        if record.kind is RecordKind.EVAL_RESULT and p.get("format") == CASE_FORMAT:
            category = p.get("category")
            out.append(
                HardenExample(
                    str(p["text"]),
                    int(p["label"]),
                    None if category is None else str(category),
                    str(p["attack"]),
                    str(p["variant"]),
                    str(p["goal_id"]),
                    int(p["round"]),
                )
            )
    return out


def check_regression(
    target: Target, cases: Sequence[HardenExample], judge: Judge
) -> dict[str, Rate]:
    """``blocked``: bypass cases the judge no longer calls a success (the loop's judge, so
    with the guard alone a ``caution`` counts as stopped unless ``count_caution``);
    ``passed``: look-alike cases the target lets through unblocked."""
    blocked = passed = unsafe = 0
    for case in cases:
        probe = Probe.user(case.text, original=case.text, converter=case.variant)
        reply = target.answer(probe)
        if case.label:
            unsafe += 1
            blocked += not judge.judge(probe, reply).success
        else:
            passed += not reply.blocked
    return {"blocked": Rate(blocked, unsafe), "passed": Rate(passed, len(cases) - unsafe)}
