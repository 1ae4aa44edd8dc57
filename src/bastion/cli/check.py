"""``bastion check``: one turn (a table or JSON), or a whole file in batch mode."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from bastion.cli._common import build_guard, clean_errors, json_text, printable, stdout_console
from bastion.core.errors import InputError

if TYPE_CHECKING:
    from bastion.batch import DecidedRow
    from bastion.core.verdict import Decision
    from bastion.guard import Guard
    from bastion.records import RecordWriter

__all__ = ["check"]


@dataclass(frozen=True, slots=True)
class CheckOptions:
    """The flags of one ``bastion check`` call."""

    text: str | None
    as_json: bool
    response: str | None
    messages: Path | None
    source: Path | None
    dest: Path | None
    skip_bad: bool
    record: Path | None
    workers: int = 0


# A typer command's signature is its list of flags, so it cannot stay under the usual
# six parameters; it only packs them into CheckOptions and hands over.
@clean_errors
def check(  # noqa: PLR0913
    text: Annotated[
        str | None, typer.Argument(help="The user's message.", show_default=False)
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
    context: Annotated[
        str | None, typer.Option(help="Deployment context of the policy (default: general).")
    ] = None,
    policy: Annotated[Path | None, typer.Option(help="Policy YAML file.")] = None,
    config: Annotated[Path | None, typer.Option(help="Guard configuration YAML file.")] = None,
    response: Annotated[
        str | None, typer.Option(help="Judge this assistant reply to the message.")
    ] = None,
    messages: Annotated[
        Path | None, typer.Option(help="JSON file with the conversation so far (a message list).")
    ] = None,
    source: Annotated[
        Path | None, typer.Option("--in", help="Batch input: .jsonl, .csv or .parquet.")
    ] = None,
    dest: Annotated[Path | None, typer.Option("--out", help="Batch output file.")] = None,
    skip_bad: Annotated[
        bool, typer.Option("--skip-bad", help="Batch: write bad rows with an error, go on.")
    ] = False,
    record: Annotated[
        Path | None, typer.Option(help="Append a guard_decision record per decision to FILE.")
    ] = None,
    workers: Annotated[
        int,
        typer.Option(help="Batch: rows decided at once (0: one per CPU core, at most 4).", min=0),
    ] = 0,
) -> None:
    """Check a message (or a conversation, or a reply) against the policy."""
    opts = CheckOptions(text, as_json, response, messages, source, dest, skip_bad, record, workers)
    _validate(opts)
    with build_guard(config, policy, context) as guard, _records(record) as writer:
        if opts.source is not None and opts.dest is not None:
            _batch(guard, opts, writer, opts.source, opts.dest)
        else:
            _single(guard, opts, writer)


def _validate(opts: CheckOptions) -> None:
    batch = opts.source is not None or opts.dest is not None
    if batch and (opts.source is None or opts.dest is None):
        raise typer.BadParameter("batch mode needs both --in FILE and --out FILE")
    if batch and (opts.text is not None or opts.messages or opts.response is not None):
        raise typer.BadParameter("give TEXT/--messages/--response or --in/--out, not both")
    if not batch and opts.text is None and opts.messages is None:
        raise typer.BadParameter("give the TEXT to check (or --messages FILE, or --in/--out)")
    if not batch and opts.skip_bad:
        raise typer.BadParameter("--skip-bad applies to batch mode (--in/--out)")


def _records(path: Path | None) -> AbstractContextManager[RecordWriter | None]:
    if path is None:
        return nullcontext()
    from bastion.records import RecordWriter

    return RecordWriter(path)


def _conversation(opts: CheckOptions) -> list[Any]:
    turns: list[Any] = _read_messages(opts.messages) if opts.messages else []
    if opts.text is not None:
        turns.append({"role": "user", "content": opts.text})
    return turns


def _read_messages(path: Path) -> list[Any]:
    try:
        data = json.loads(path.read_text("utf-8"))
    except FileNotFoundError:
        raise InputError(f"{path}: file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: cannot read: {exc}") from None
    except (ValueError, RecursionError) as exc:
        raise InputError(f"{path}: not valid JSON: {exc}") from None
    if not isinstance(data, list):
        raise InputError(f"{path}: expected a JSON list of {{role, content}} messages")
    return data


def _single(guard: Guard, opts: CheckOptions, writer: RecordWriter | None) -> None:
    turns = _conversation(opts)
    if opts.response is None:
        decision = guard.check(turns)
    else:
        decision = guard.check_response(turns, opts.response)
    if writer is not None:
        from bastion.records import decision_record, utc_now

        writer.write(
            decision_record(decision, messages=turns, response=opts.response, clock=utc_now)
        )
    _show(decision, as_json=opts.as_json)


def _show(decision: Decision, *, as_json: bool) -> None:
    if as_json:
        typer.echo(json_text(decision.to_dict()))
        return
    from bastion.cli.render import print_decision

    print_decision(stdout_console(), decision)


def _batch(
    guard: Guard, opts: CheckOptions, writer: RecordWriter | None, source: Path, dest: Path
) -> None:
    from bastion.batch import run_batch
    from bastion.cli.progress import terminal_progress
    from bastion.cli.render import summary_line

    on_decision = _recorder(writer, source) if writer is not None else None
    with terminal_progress(f"checking {printable(source.name)}") as progress:
        summary = run_batch(
            guard,
            source,
            dest,
            skip_bad=opts.skip_bad,
            progress=progress,
            on_decision=on_decision,
            workers=opts.workers or min(4, os.cpu_count() or 1),
        )
    typer.echo(json_text(summary.to_dict()) if opts.as_json else summary_line(summary, str(dest)))


def _recorder(writer: RecordWriter, source: Path) -> Callable[[DecidedRow], None]:
    from bastion.records import decision_record, utc_now

    def write(row: DecidedRow) -> None:
        request = row.input
        record = decision_record(
            row.decision,
            messages=request.messages,
            response=request.response,
            clock=utc_now,
            source=f"{source}:{row.line}",
        )
        writer.write(record)

    return write
