"""Score a JSON Lines file of (prompt, response) rows with the reward model, streaming.

Input rows have ``prompt`` (a string, or a message list whose last message is the user's)
and ``response`` (a string); other fields are carried through. Output rows are the input
row plus ``reward`` (a float, higher is better). Rows are read one line at a time and
scored in small batches, so memory stays constant in the file size; the output is written
to a temporary file that replaces ``dest`` only when the run succeeds.

A bad row (not JSON, not an object, a missing or mistyped field) stops the run with
:class:`~bastion.core.errors.BatchInputError` naming its line; with ``skip_bad`` it is
written with ``error: {line, error, raw}`` instead, so the output has one row per input
row, exactly like ``bastion check --in``.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bastion.batch.atomic import atomic_output
from bastion.batch.formats import BatchFormat, detect_format
from bastion.batch.progress import NullProgress, ProgressSink
from bastion.batch.read_jsonl import open_jsonl
from bastion.batch.rows import SourceRow, error_output
from bastion.batch.writers import JsonlRowWriter
from bastion.core.errors import BatchInputError, InputError
from bastion.core.types import Role, as_messages
from bastion.shaping.from_candidates import Scorer

__all__ = ["ScoreSummary", "score_file", "score_row_input"]

_CHUNK = 64
_JSONL = (BatchFormat.JSONL, BatchFormat.JSONL_GZ)


@dataclass(frozen=True, slots=True)
class ScoreSummary:
    """What a scoring run did: rows read, rows scored, bad rows written, wall time."""

    rows: int
    scored: int
    bad: int
    seconds: float

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {
            "rows": self.rows,
            "scored": self.scored,
            "bad": self.bad,
            "seconds": round(self.seconds, 3),
        }


def score_row_input(data: dict[str, Any]) -> tuple[str, str]:
    """``(prompt text, response)`` of one row; a message list gives its last user message.

    Raises:
        InputError: a missing or mistyped field.
    """
    prompt, response = data.get("prompt"), data.get("response")
    if isinstance(prompt, list):
        messages = as_messages(prompt)
        if not messages or messages[-1].role is not Role.USER:
            raise InputError("'prompt' messages must end with a user message")
        prompt = messages[-1].content
    if not isinstance(prompt, str):
        raise InputError("row needs 'prompt': a string or a list of {role, content} messages")
    if not isinstance(response, str):
        raise InputError("row needs 'response': a string")
    return prompt, response


def score_file(
    scorer: Scorer,
    source: Path,
    dest: Path,
    *,
    skip_bad: bool = False,
    progress: ProgressSink | None = None,
) -> ScoreSummary:
    """Score every row of ``source`` into ``dest`` (both JSON Lines, optionally ``.gz``).

    Raises:
        BatchInputError: a bad row (with its line), when ``skip_bad`` is false.
        InputError: unreadable input, a non-JSONL extension, or ``dest`` is ``source``.
    """
    formats = detect_format(source), detect_format(dest)
    if any(fmt not in _JSONL for fmt in formats):
        raise InputError("reward scoring reads and writes JSON Lines (.jsonl, .jsonl.gz)")
    if dest.exists() and dest.resolve() == source.resolve():
        raise InputError(f"{dest}: the output must not be the input file")
    started = time.perf_counter()
    run = _Run(scorer, str(source), skip_bad)
    try:
        with ExitStack() as stack:
            gz = formats[0] is BatchFormat.JSONL_GZ
            rows = open_jsonl(source, progress or NullProgress(), stack, gz=gz).rows
            tmp = stack.enter_context(atomic_output(dest))
            writer = JsonlRowWriter(tmp, gz=formats[1] is BatchFormat.JSONL_GZ)
            stack.callback(writer.close)
            run.stream(rows, writer)
            writer.finish()
    except OSError as exc:
        raise InputError(f"{exc.filename or dest}: {exc.strerror or exc}") from None
    return ScoreSummary(run.scored + run.bad, run.scored, run.bad, time.perf_counter() - started)


class _Run:
    """The per-chunk work and the tallies of one scoring run."""

    def __init__(self, scorer: Scorer, source: str, skip_bad: bool) -> None:
        self._scorer, self._source, self._skip_bad = scorer, source, skip_bad
        self.scored = self.bad = 0

    def stream(self, rows: Any, writer: JsonlRowWriter) -> None:
        chunk: list[SourceRow] = []
        for row in rows:
            chunk.append(row)
            if len(chunk) >= _CHUNK:
                self._flush(chunk, writer)
                chunk = []
        self._flush(chunk, writer)

    def _flush(self, chunk: Sequence[SourceRow], writer: JsonlRowWriter) -> None:
        parsed: list[tuple[SourceRow, tuple[str, str] | str]] = [
            (row, self._parse(row)) for row in chunk
        ]
        good = [item for _, item in parsed if isinstance(item, tuple)]
        rewards = iter(self._scorer.score_many(good))
        for row, item in parsed:
            if isinstance(item, str):
                writer.write(error_output(row, item), row.line)
                self.bad += 1
            else:
                out = dict(row.data or {})
                out.pop("error", None)
                out["reward"] = round(next(rewards), 6)
                writer.write(out, row.line)
                self.scored += 1

    def _parse(self, row: SourceRow) -> tuple[str, str] | str:
        """The pair to score, or (with ``skip_bad``) the error message of a bad row."""
        try:
            if row.error is not None:
                raise InputError(row.error)
            return score_row_input(row.data or {})
        except InputError as exc:
            if not self._skip_bad:
                raise BatchInputError(str(exc), path=self._source, line=row.line) from None
            return str(exc)
