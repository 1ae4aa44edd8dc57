"""Resumable runs: every answer is appended to ``results.jsonl`` as soon as it is given,
and a resumed run replays the answers already recorded instead of asking again.

:class:`RecordingTarget` wraps the target for one suite. Each answer becomes an
``eval_result`` record of ``type: answer`` keyed by suite, target and the SHA-256 of the
conversation asked (an item's prompt, or each turn of a multi-turn item), so a killed run
loses at most the answer in flight. Answers that failed (``error`` set, e.g. a time budget
under load) are not replayed: a resumed run asks them again.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bastion.core.types import Action
from bastion.eval.target import Answer, Conversation, Target
from bastion.records import Clock, Record, RecordKind, RecordWriter, new_record, utc_now

__all__ = ["Recording", "RecordingTarget", "answer_key", "recorded_answers"]

_ACTIONS = {a.value: a for a in Action}


def answer_key(suite: str, target: str, conversation: Conversation) -> str:
    """The key of one answer: suite, target, context and every message of the conversation."""
    parts = [suite, target, conversation.context or ""]
    parts += [f"{m.role.value}:{m.content}" for m in conversation.messages]
    text = json.dumps(parts, ensure_ascii=True)
    return hashlib.sha256(text.encode("ascii")).hexdigest()


def recorded_answers(path: Path, target: str) -> dict[str, Answer]:
    """The answers of ``target`` already in ``path`` (none when the file is absent). Torn
    or unreadable lines (a run killed mid-write) are skipped."""
    if not path.is_file():
        return {}
    known: dict[str, Answer] = {}
    with path.open("rb") as stream:
        for line in stream:
            try:
                record = Record.model_validate_json(line)
            except ValueError:
                continue
            data = record.payload
            if data.get("type") == "answer" and data.get("target") == target:
                answer = _answer(data)
                if answer is not None:
                    known[str(data.get("key"))] = answer
    return known


def _answer(data: dict[str, Any]) -> Answer | None:
    action = _ACTIONS.get(str(data.get("action")))
    if action is None or data.get("error"):
        return None
    score = data.get("score")
    return Answer(
        action,
        float(score) if isinstance(score, int | float) else None,
        data.get("category"),
        data.get("reply"),
        data.get("reply_kind"),
        None,
        tuple(str(g) for g in data.get("guidance") or ()),
        data.get("alternative"),
    )


@dataclass(frozen=True, slots=True)
class Recording:
    """Where a run records its answers, and the answers a resumed run replays."""

    writer: RecordWriter
    known: dict[str, Answer] = field(default_factory=dict)


class RecordingTarget:
    """A target that records each answer as it is given and replays recorded ones.

    Args:
        inner: the target asked.
        writer: where answer records are appended.
        suite: the suite being run (part of the key).
        run_id: the run the records belong to.
        known: answers already recorded (see :func:`recorded_answers`).
        clock: time source of the records.
    """

    def __init__(
        self,
        inner: Target,
        writer: RecordWriter,
        suite: str,
        run_id: str,
        known: dict[str, Answer],
        clock: Clock = utc_now,
    ) -> None:
        self._inner, self._writer, self._suite = inner, writer, suite
        self._run_id, self._known, self._clock = run_id, known, clock
        self.replayed = 0

    @property
    def name(self) -> str:
        """The wrapped target's name."""
        return self._inner.name

    @property
    def inner(self) -> Target:
        """The wrapped target."""
        return self._inner

    def answer(self, conversation: Conversation) -> Answer:
        """The recorded answer, or the target's (recorded at once)."""
        key = answer_key(self._suite, self.name, conversation)
        if key in self._known:
            self.replayed += 1
            return self._known[key]
        answer = self._inner.answer(conversation)
        payload = {
            "type": "answer",
            "run_id": self._run_id,
            "target": self.name,
            "suite": self._suite,
            "key": key,
            "action": answer.action.value,
            "score": answer.score,
            "category": answer.category,
            "reply": answer.reply,
            "reply_kind": answer.reply_kind,
            "error": answer.error,
            "guidance": list(answer.guidance),
            "alternative": answer.alternative,
        }
        # A record that cannot be written raises RecordError: the runner reports the suite
        # as skipped with the reason rather than run on without its log.
        self._writer.write(new_record(RecordKind.EVAL_RESULT, payload, clock=self._clock))
        return answer
