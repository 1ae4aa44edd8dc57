"""Preference pairs from candidate responses ranked by a reward model.

Input: JSON Lines, one prompt per line with its candidate responses::

    {"prompt": "How do I kill a Python process?", "responses": ["Use kill -9 ...", "I can't help."]}

``prompt`` is a string (one user message) or an OpenAI-style message list ending with a
user message. Every response is scored; chosen = the highest reward, rejected = the lowest
(ties keep the earlier response as chosen). A line whose best-worst margin is below
``min_margin`` is skipped (``below_margin``), as is one whose best reward is below
``min_reward`` (``low_reward``). A line with one distinct response is a demonstration
(SFT only). Other fields of the line are ignored.

A malformed line raises :class:`~bastion.core.errors.BatchInputError` with its line
number, or with ``skip_bad`` is skipped (``bad_line``).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from bastion.batch.progress import NullProgress
from bastion.batch.read_jsonl import open_jsonl
from bastion.batch.rows import SourceRow
from bastion.core.errors import BatchInputError, InputError
from bastion.core.types import Message, Role, as_messages
from bastion.shaping.pairs import PreferencePair, Skipped

__all__ = ["CandidatePairSource", "Scorer"]

_CHUNK = 32  # lines scored together, so the encoder sees real batches


class Scorer(Protocol):
    """What ranking needs of a reward model (:class:`~bastion.shaping.reward.RewardModel`)."""

    def score_many(self, pairs: Iterable[tuple[str, str]], *, batch_size: int = 32) -> list[float]:
        """Rewards of ``(prompt, response)`` pairs, higher is better."""
        ...


@dataclass(frozen=True, slots=True)
class _Line:
    number: int
    prompt: tuple[Message, ...]
    responses: tuple[str, ...]


class CandidatePairSource:
    """Pairs from a candidates JSONL file, ranked by ``scorer``.

    Args:
        path: the candidates file (``.jsonl``, optionally ``.gz``).
        scorer: the reward model.
        min_margin: the least reward margin a DPO pair needs.
        min_reward: the least reward the chosen response needs (None: no floor).
        skip_bad: skip malformed lines instead of raising.
    """

    def __init__(
        self,
        path: Path,
        scorer: Scorer,
        *,
        min_margin: float = 0.0,
        min_reward: float | None = None,
        skip_bad: bool = False,
    ) -> None:
        self.path, self._scorer = path, scorer
        self._min_margin, self._min_reward = min_margin, min_reward
        self._skip_bad = skip_bad

    def pairs(self) -> Iterator[PreferencePair | Skipped]:
        """One pair or skip per non-blank line, in file order.

        Raises:
            BatchInputError: a malformed line (without ``skip_bad``).
            InputError: the file is missing or unreadable.
        """
        with ExitStack() as stack:
            gz = self.path.name.endswith(".gz")
            rows = open_jsonl(self.path, NullProgress(), stack, gz=gz).rows
            chunk: list[_Line | Skipped] = []
            for row in rows:
                chunk.append(self._line(row))
                if len(chunk) >= _CHUNK:
                    yield from self._rank(chunk)
                    chunk = []
            yield from self._rank(chunk)

    def _line(self, row: SourceRow) -> _Line | Skipped:
        try:
            if row.error is not None:
                raise InputError(row.error)
            return _parse(row.line, row.data or {})
        except InputError as exc:
            if not self._skip_bad:
                raise BatchInputError(str(exc), path=str(self.path), line=row.line) from None
            return Skipped("bad_line", f"{self.path}:{row.line}")

    def _rank(self, chunk: Sequence[_Line | Skipped]) -> Iterator[PreferencePair | Skipped]:
        lines = [c for c in chunk if isinstance(c, _Line)]
        flat = [(line.prompt[-1].content, r) for line in lines for r in line.responses]
        scores = iter(self._scorer.score_many(flat))
        ranked = {id(line): [next(scores) for _ in line.responses] for line in lines}
        for item in chunk:
            if isinstance(item, Skipped):
                yield item
            else:
                yield self._pick(item, ranked[id(item)])

    def _pick(self, line: _Line, rewards: list[float]) -> PreferencePair | Skipped:
        where = f"{self.path}:{line.number}"
        best = max(range(len(rewards)), key=lambda i: (rewards[i], -i))
        worst = min(range(len(rewards)), key=lambda i: (rewards[i], -i))
        if self._min_reward is not None and rewards[best] < self._min_reward:
            return Skipped("low_reward", where)
        if len(line.responses) == 1:
            return PreferencePair(line.prompt, line.responses[0], None, where)
        margin = rewards[best] - rewards[worst]
        if margin <= 0 or margin < self._min_margin:
            return Skipped("below_margin", where)
        chosen, rejected = line.responses[best], line.responses[worst]
        return PreferencePair(line.prompt, chosen, rejected, where, round(margin, 6))


def _parse(number: int, data: dict[str, Any]) -> _Line:
    prompt = data.get("prompt")
    if not isinstance(prompt, (str, list)):
        raise InputError("'prompt' must be a string or a list of {role, content} messages")
    messages = as_messages(prompt)
    if not messages or messages[-1].role is not Role.USER or not messages[-1].content.strip():
        raise InputError("'prompt' must end with a non-empty user message")
    responses = data.get("responses")
    if not isinstance(responses, list) or not all(isinstance(r, str) for r in responses):
        raise InputError("'responses' must be a list of strings")
    distinct = tuple(dict.fromkeys(r for r in responses if r.strip()))
    if not distinct:
        raise InputError("'responses' has no non-empty response")
    return _Line(number, messages, distinct)
