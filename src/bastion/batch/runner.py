"""Run the guard over a batch file: stream rows in, decisions out, all or nothing."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass, field, replace
from itertools import islice
from pathlib import Path
from typing import Any, Protocol

from bastion.batch.atomic import atomic_output
from bastion.batch.formats import detect_format
from bastion.batch.progress import NullProgress, ProgressSink
from bastion.batch.rows import (
    DecidedRow,
    RowInput,
    SourceRow,
    decided_output,
    error_output,
    parse_row,
)
from bastion.batch.sources import open_source
from bastion.batch.writers import RowWriter, open_writer
from bastion.core.errors import BatchInputError, InputError
from bastion.core.types import Message
from bastion.core.verdict import Decision

__all__ = ["BatchSummary", "Checker", "DecisionSink", "run_batch"]

DecisionSink = Callable[[DecidedRow], None]


class Checker(Protocol):
    """What a batch run needs of a guard (:class:`bastion.guard.Guard` is one)."""

    def check(
        self, messages: str | Sequence[Message | Mapping[str, Any]], *, context: str | None = None
    ) -> Decision:
        """Decide on a user turn."""
        ...

    def check_response(
        self,
        messages: str | Sequence[Message | Mapping[str, Any]],
        response: str,
        *,
        context: str | None = None,
    ) -> Decision:
        """Decide on an assistant reply."""
        ...


@dataclass(frozen=True, slots=True)
class BatchSummary:
    """What a batch run did.

    Attributes:
        rows: rows read (decided plus bad); blank lines are not rows.
        decided: rows the guard decided.
        bad: bad rows written with an ``error`` (only with ``skip_bad``).
        review: decided rows flagged for human review.
        by_action: decided rows per action, e.g. ``{"allow": 90, "refuse": 10}``.
        seconds: wall time of the run.
    """

    rows: int
    decided: int
    bad: int
    review: int
    by_action: Mapping[str, int] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def rows_per_second(self) -> float:
        """Throughput over the whole run."""
        return self.rows / self.seconds if self.seconds > 0 else 0.0

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {
            "rows": self.rows,
            "decided": self.decided,
            "bad": self.bad,
            "review": self.review,
            "by_action": dict(self.by_action),
            "seconds": round(self.seconds, 3),
            "rows_per_second": round(self.rows_per_second, 1),
        }


def run_batch(  # noqa: PLR0913 - the options after * are keyword-only, with defaults
    guard: Checker,
    source: Path,
    dest: Path,
    *,
    skip_bad: bool = False,
    progress: ProgressSink | None = None,
    on_decision: DecisionSink | None = None,
    workers: int = 1,
) -> BatchSummary:
    """Check every row of ``source`` and write ``dest``; formats follow the extensions.

    Each output row is the input row plus ``decision`` (``Decision.to_dict(verdicts=False)``);
    ``dest`` appears only when the run succeeds (temporary file, then an atomic rename).

    Args:
        guard: decides each row.
        source: ``.jsonl``/``.json``/``.ndjson`` (optionally ``.gz``), ``.csv`` or ``.parquet``.
        dest: the output file, in any of those formats.
        skip_bad: write a bad row with an ``error`` instead of stopping at it.
        progress: told the input size and the bytes read.
        on_decision: called with each decided row (e.g. to append a record).
        workers: rows decided at once on a thread pool (the encoder releases the GIL);
            output order, records and bad-row handling are the same as with one.

    Raises:
        BatchInputError: a bad row (with its line), when ``skip_bad`` is false.
        InputError: unreadable input, unknown extension, or rows that do not fit the
            output's columns.
    """
    if workers < 1:
        raise InputError(f"workers must be at least 1, got {workers}")
    in_fmt, out_fmt = detect_format(source), detect_format(dest)
    if dest.exists() and dest.resolve() == source.resolve():
        raise InputError(f"{dest}: the output must not be the input file")
    started = time.perf_counter()
    try:
        with ExitStack() as stack:
            src = open_source(source, in_fmt, progress or NullProgress(), stack)
            tmp = stack.enter_context(atomic_output(dest))
            writer = open_writer(tmp, out_fmt, src)
            stack.callback(writer.close)
            run = _BatchRun(guard, source, writer, skip_bad=skip_bad, on_decision=on_decision)
            if workers == 1:
                for row in src.rows:
                    run.handle(row)
            else:
                pool = stack.enter_context(ThreadPoolExecutor(workers))
                for chunk in _chunks(src.rows, workers * 16):
                    run.handle_chunk(chunk, pool)
            writer.finish()
    except OSError as exc:  # disk full, a folder named like the output, permissions...
        raise InputError(f"{exc.filename or dest}: {exc.strerror or exc}") from None
    return run.summary(time.perf_counter() - started)


class _BatchRun:
    """The per-row work and the tallies of one run."""

    def __init__(
        self,
        guard: Checker,
        source: Path,
        writer: RowWriter,
        *,
        skip_bad: bool,
        on_decision: DecisionSink | None,
    ) -> None:
        self._guard, self._source, self._writer = guard, source, writer
        self._skip_bad, self._on_decision = skip_bad, on_decision
        self._actions: Counter[str] = Counter()
        self._bad = self._review = 0

    def handle(self, row: SourceRow) -> None:
        """Decide one row and write it, or handle it as bad."""
        if row.error is not None:
            self._reject(row, row.error)
            return
        try:
            request = parse_row(row.data)
            decision = _decide(self._guard, request)
        except InputError as exc:
            self._reject(row, str(exc))
            return
        self._finish(row, request, decision)

    def handle_chunk(self, rows: Sequence[SourceRow], pool: ThreadPoolExecutor) -> None:
        """Decide ``rows`` concurrently on ``pool``; write them in input order."""
        pending: list[tuple[SourceRow, RowInput | None, Future[Decision] | str]] = []
        for row in rows:
            if row.error is not None:
                pending.append((row, None, row.error))
                continue
            try:
                request = parse_row(row.data)
            except InputError as exc:
                pending.append((row, None, str(exc)))
                continue
            pending.append((row, request, pool.submit(_decide, self._guard, request)))
        for row, parsed, work in pending:
            if isinstance(work, str) or parsed is None:
                self._reject(row, str(work))
                continue
            try:
                decision = work.result()
            except InputError as exc:
                self._reject(row, str(exc))
                continue
            self._finish(row, parsed, decision)

    def _finish(self, row: SourceRow, request: RowInput, decision: Decision) -> None:
        try:
            self._writer.write(decided_output(row, decision), row.line)
        except (ValueError, TypeError, RecursionError) as exc:  # e.g. nested too deep
            self._reject(replace(row, data=None), f"cannot write row: {exc}")
            return
        self._actions[decision.action.value] += 1
        self._review += decision.review
        if self._on_decision is not None:
            self._on_decision(DecidedRow(row.line, request, decision))

    def _reject(self, row: SourceRow, message: str) -> None:
        if not self._skip_bad:
            raise BatchInputError(message, path=str(self._source), line=row.line)
        self._writer.write(error_output(row, message), row.line)
        self._bad += 1

    def summary(self, seconds: float) -> BatchSummary:
        """The tallies so far."""
        decided = sum(self._actions.values())
        return BatchSummary(
            rows=decided + self._bad,
            decided=decided,
            bad=self._bad,
            review=self._review,
            by_action=dict(self._actions),
            seconds=seconds,
        )


def _chunks(rows: Iterable[SourceRow], size: int) -> Iterator[list[SourceRow]]:
    iterator = iter(rows)
    while chunk := list(islice(iterator, size)):
        yield chunk


def _decide(guard: Checker, request: RowInput) -> Decision:
    if request.response is None:
        return guard.check(request.messages, context=request.context)
    return guard.check_response(request.messages, request.response, context=request.context)
