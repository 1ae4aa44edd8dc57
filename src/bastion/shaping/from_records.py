"""Preference pairs from guard decision records (``bastion check --record FILE``).

Each ``guard_decision`` record (see ``docs/records.md``) becomes, at most, one pair:

- ``refuse``: chosen = a policy-grounded refusal built from the decision's
  ``explanation`` and ``alternative``. When the record judged an assistant reply
  (``input.response``) that was not itself a refusal, that reply is the rejected
  response (a DPO pair); otherwise the pair is a demonstration (SFT only).
- ``allow`` with a judged reply that is neither harmful nor a refusal: a demonstration
  of that reply.

Everything else is skipped with a reason the export summary counts: ``failed_closed``
(the guard errored; its refusal is not a policy judgement), ``multi_turn`` (the record
keeps only the last user message, and an escalation read without its history would teach
refusing harmless-looking text), ``truncated`` (the excerpt was cut at 2,000
characters), ``over_refusal`` (an allowed prompt whose reply refused: there is no good
answer to prefer), ``no_response``, ``action_<name>`` (``caution``, ``ask_context``).

Human review decisions that supersede a guard decision replace its action (``refuse``
or ``allow``), so reviewed files export what the reviewer decided. Records are read
twice (reviews first), so memory stays constant in the file size.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Final

from pydantic import ValidationError

from bastion.core.errors import RecordError
from bastion.records import Record, RecordKind
from bastion.records.model import describe_validation
from bastion.shaping.pairs import PreferencePair, Skipped, user_prompt

__all__ = ["RecordPairSource", "policy_refusal"]

_EXCERPT_CHARS: Final = 2000  # bastion.records.decision.EXCERPT_CHARS
_FALLBACK: Final = "I can't help with that."


def policy_refusal(explanation: str | None, alternative: str | None) -> str:
    """A refusal grounded in the policy: the decision's explanation, then its alternative."""
    parts = [(explanation or "").strip() or _FALLBACK, (alternative or "").strip()]
    return " ".join(_sentence(p) for p in parts if p)


def _sentence(text: str) -> str:
    return text if text.endswith((".", "!", "?", "…")) else text + "."


class RecordPairSource:
    """Pairs from one records file.

    Args:
        path: a JSON Lines file of bastion records.
        skip_bad: yield a ``bad_record`` skip for a line that is not a valid record
            instead of raising.
    """

    def __init__(self, path: Path, *, skip_bad: bool = False) -> None:
        self.path = path
        self._skip_bad = skip_bad

    def pairs(self) -> Iterator[PreferencePair | Skipped]:
        """One pair or skip per guard decision record, in file order.

        Raises:
            RecordError: the file is missing, or (without ``skip_bad``) a bad line.
        """
        reviews = self._reviews()
        for number, record in self._records():
            where = f"{self.path}:{number}"
            if record is None:
                yield Skipped("bad_record", where)
            elif record.kind is RecordKind.GUARD_DECISION:
                yield _from_decision(record.payload, reviews.get(record.id), where)

    def _reviews(self) -> dict[str, str]:
        """Guard-decision id -> the action its latest human review set."""
        target: dict[str, str] = {}  # review id -> the guard decision it (finally) revises
        actions: dict[str, str] = {}
        for _, record in self._records():
            if record is None or record.supersedes is None:
                continue
            if record.kind is RecordKind.REVIEW_DECISION:
                root = target.get(record.supersedes, record.supersedes)
                target[record.id] = root
                action = record.payload.get("action")
                if isinstance(action, str):
                    actions[root] = action
        return actions

    def _records(self) -> Iterator[tuple[int, Record | None]]:
        if not self.path.is_file():
            raise RecordError(f"{self.path}: file not found")
        with self.path.open("rb") as stream:
            for number, raw in enumerate(stream, start=1):
                if raw.strip():
                    yield number, self._parse(raw, number)

    def _parse(self, raw: bytes, number: int) -> Record | None:
        try:
            data: Any = json.loads(raw.decode("utf-8"))
            return Record.model_validate(data)
        except (UnicodeDecodeError, ValueError, RecursionError) as exc:
            if self._skip_bad:
                return None
            detail = describe_validation(exc) if isinstance(exc, ValidationError) else str(exc)
            raise RecordError(f"{self.path}:{number}: not a valid record: {detail}") from None


def _from_decision(
    payload: dict[str, Any], reviewed: str | None, where: str
) -> PreferencePair | Skipped:
    inputs, decision = payload.get("input"), payload.get("decision")
    if not isinstance(inputs, dict) or not isinstance(decision, dict):
        return Skipped("bad_record", where)
    prompt = inputs.get("last_user")
    skip = _skip_reason(inputs, decision, prompt)
    if skip is not None:
        return Skipped(skip, where)
    assert isinstance(prompt, str)  # checked by _skip_reason
    action = reviewed or str(decision.get("action"))
    response = _str(inputs.get("response"))
    if action == "refuse":
        chosen = policy_refusal(
            _str(decision.get("explanation")), _str(decision.get("alternative"))
        )
        rejected = None if decision.get("response_refusal") is True else response
        return PreferencePair(user_prompt(prompt), chosen, rejected or None, where)
    if action == "allow":
        return _allowed(prompt, response, decision, where)
    return Skipped(f"action_{action}", where)


def _skip_reason(inputs: dict[str, Any], decision: dict[str, Any], prompt: object) -> str | None:
    if decision.get("error"):
        return "failed_closed"
    turns = inputs.get("turns", 1)
    if not isinstance(prompt, str) or not prompt.strip() or not isinstance(turns, int):
        return "bad_record"
    if turns > 1:
        return "multi_turn"
    if len(prompt) >= _EXCERPT_CHARS and prompt.endswith("…"):
        return "truncated"
    response = inputs.get("response")
    if isinstance(response, str) and len(response) >= _EXCERPT_CHARS and response.endswith("…"):
        return "truncated"
    return None


def _str(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _allowed(
    prompt: str, response: str | None, decision: dict[str, Any], where: str
) -> PreferencePair | Skipped:
    if not response or not response.strip():
        return Skipped("no_response", where)
    if decision.get("response_refusal") is True:
        return Skipped("over_refusal", where)
    if decision.get("response_harmful") is True:
        return Skipped("harmful_response", where)
    return PreferencePair(user_prompt(prompt), response, None, where)
