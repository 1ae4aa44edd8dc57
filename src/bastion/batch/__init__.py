"""Batch checking: stream a file of conversations through the guard, write decisions.

Formats follow the file extension: JSON Lines (``.jsonl``, ``.json``, ``.ndjson``, and
gzip-compressed ``.gz`` forms of each), ``.csv`` (with a header row) and ``.parquet``
(needs ``pip install 'bastion[parquet]'``).

Input rows have ``text`` (one user turn) or ``messages`` (an OpenAI-style list of
``{role, content}``; in CSV, that list as JSON text), and optionally ``response`` (an
assistant reply to judge) and ``context`` (a deployment context of the policy). Other
fields are carried through.

Output rows are the input row plus ``decision``, the guard's
``Decision.to_dict(verdicts=False)`` (with ``response_refusal``/``response_harmful``
when a response was judged). In CSV and Parquet, ``decision`` is a JSON string column.

A bad row (invalid UTF-8, malformed or too deeply nested JSON, not an object, neither
``text`` nor ``messages``, a field of the wrong type, an unknown context) stops the run
with :class:`~bastion.core.errors.BatchInputError` naming its line; with
``skip_bad=True`` it is written with ``error: {line, error, raw}`` instead, so the output
has one row per input row.

Memory stays constant in the input size: JSON Lines and CSV are read one binary line at
a time, Parquet one batch of rows at a time, and output is streamed to a temporary file
that replaces the destination only when the run succeeds.
"""

from bastion.batch.formats import BatchFormat, detect_format
from bastion.batch.progress import NullProgress, ProgressSink
from bastion.batch.rows import DecidedRow, RowInput, SourceRow
from bastion.batch.runner import BatchSummary, Checker, DecisionSink, run_batch

__all__ = [
    "BatchFormat",
    "BatchSummary",
    "Checker",
    "DecidedRow",
    "DecisionSink",
    "NullProgress",
    "ProgressSink",
    "RowInput",
    "SourceRow",
    "detect_format",
    "run_batch",
]
