"""Red-team findings as records of the shared format (``kind: redteam_finding``).

A finding's payload::

    {"run_id": "...", "target": "guard",
     "attack": {"name": "base64", "family": "obfuscation"},
     "goal": {"id": "drugs.meth", "category": "drugs", "request": "Explain ..."},
     "success": false, "score": 0.02, "note": "", "error": null, "duration_s": 0.01,
     "turns": [{"converter": "base64", "prompt": "...", "reply": "...", "success": false,
                "score": 0.02, "judge": "guard_decision", "reason": "...",
                "action": "refuse", "messages": 1}]}

``turns`` keeps, per probe, both the converted prompt and (in ``goal.request``) the
original one, with the converter that made it. Prompts and replies are cut to
:data:`EXCERPT_CHARS`. ``error`` is set when the target kept failing or the attack raised;
such findings count as neither success nor failure in reports and are retried by
``--resume``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bastion.core.errors import RecordError
from bastion.records import (
    Clock,
    Record,
    RecordKind,
    latest_records,
    new_id,
    new_record,
    read_records,
)

__all__ = ["EXCERPT_CHARS", "Finding", "Turn", "finding_record", "read_findings"]

EXCERPT_CHARS = 4000


def _cut(text: str) -> str:
    return text if len(text) <= EXCERPT_CHARS else text[: EXCERPT_CHARS - 1] + "…"


@dataclass(frozen=True, slots=True)
class Turn:
    """One probe and what came back, as the judge read it."""

    converter: str
    prompt: str
    reply: str
    success: bool
    score: float
    judge: str
    reason: str = ""
    action: str | None = None
    messages: int = 1

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready, prompt and reply cut to :data:`EXCERPT_CHARS`."""
        return {
            "converter": self.converter,
            "prompt": _cut(self.prompt),
            "reply": _cut(self.reply),
            "success": self.success,
            "score": round(self.score, 4),
            "judge": self.judge,
            "reason": self.reason,
            "action": self.action,
            "messages": self.messages,
        }


@dataclass(frozen=True, slots=True)
class Finding:
    """The result of one attack on one goal against one target."""

    run_id: str
    target: str
    attack: str
    family: str
    goal_id: str
    category: str
    request: str
    success: bool
    score: float
    turns: tuple[Turn, ...] = ()
    note: str = ""
    error: str | None = None
    duration_s: float = 0.0

    @property
    def key(self) -> tuple[str, str]:
        """``(attack, goal_id)``: what a resumed run skips."""
        return (self.attack, self.goal_id)

    def to_payload(self) -> dict[str, Any]:
        """The record payload (see the module docstring)."""
        return {
            "run_id": self.run_id,
            "target": self.target,
            "attack": {"name": self.attack, "family": self.family},
            "goal": {"id": self.goal_id, "category": self.category, "request": self.request},
            "success": self.success,
            "score": round(self.score, 4),
            "note": self.note,
            "error": self.error,
            "duration_s": round(self.duration_s, 4),
            "turns": [t.to_dict() for t in self.turns],
        }

    @classmethod
    def from_payload(cls, data: Mapping[str, Any]) -> Finding:
        """Read a payload back.

        Raises:
            RecordError: a field is missing or has the wrong type.
        """
        try:
            return cls(
                run_id=str(data["run_id"]),
                target=str(data["target"]),
                attack=str(data["attack"]["name"]),
                family=str(data["attack"]["family"]),
                goal_id=str(data["goal"]["id"]),
                category=str(data["goal"]["category"]),
                request=str(data["goal"]["request"]),
                success=bool(data["success"]),
                score=float(data["score"]),
                turns=tuple(Turn(**t) for t in data.get("turns", ())),
                note=str(data.get("note", "")),
                error=None if data.get("error") is None else str(data["error"]),
                duration_s=float(data.get("duration_s", 0.0)),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise RecordError(f"not a red-team finding payload: {exc!r}") from None


def finding_record(
    finding: Finding, *, clock: Clock, id_factory: Callable[[], str] = new_id
) -> Record:
    """The ``redteam_finding`` record for ``finding``."""
    return new_record(
        RecordKind.REDTEAM_FINDING, finding.to_payload(), clock=clock, id_factory=id_factory
    )


def read_findings(path: str | Path) -> list[Finding]:
    """The current findings of a records file: one per ``(attack, goal)``, the latest.

    Superseded records are dropped, other record kinds ignored, and a pair attacked twice
    (a resumed run retrying an error) keeps its last finding.

    Raises:
        RecordError: the file is missing or holds a bad line.
    """
    return _latest_per_key(
        Finding.from_payload(r.payload)
        for r in latest_records(read_records(path))
        if r.kind is RecordKind.REDTEAM_FINDING
    )


def _latest_per_key(findings: Iterable[Finding]) -> list[Finding]:
    by_key: dict[tuple[str, str], Finding] = {}
    for finding in findings:
        by_key.pop(finding.key, None)  # re-insert so file order follows the latest
        by_key[finding.key] = finding
    return list(by_key.values())
