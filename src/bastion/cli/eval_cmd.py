"""``bastion eval``: measure the failure modes of the guard or of a guarded assistant."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from bastion.cli._common import build_guard, clean_errors, printable, stdout_console
from bastion.core.errors import InputError

if TYPE_CHECKING:
    from rich.progress import TaskID

    from bastion.eval import EvalReport
    from bastion.eval.runner import SuiteProgress
    from bastion.eval.targets import RemoteOptions

__all__ = ["eval_app"]

eval_app = typer.Typer(
    help="Evaluate over-refusal, under-refusal, consistency and sycophancy.",
    invoke_without_command=True,
)


# A typer command's signature is its list of flags; it only hands them over.
@eval_app.callback()
@clean_errors
def evaluate(  # noqa: PLR0913
    ctx: typer.Context,
    suite: Annotated[
        str, typer.Option(help="'all', or suite names separated by commas (see 'eval list').")
    ] = "all",
    target: Annotated[
        str,
        typer.Option(
            help="guard | embedded:smollm2[+guard] | embedded:qwen[+guard] | openai:URL[+guard]"
            " | gateway:URL | fake[+guard]; '@FILE.yaml' at the end names its guard config"
        ),
    ] = "guard",
    config: Annotated[Path | None, typer.Option(help="Guard configuration YAML file.")] = None,
    out: Annotated[Path, typer.Option(help="Folder for results.jsonl and the reports.")] = Path(
        "eval-out"
    ),
    limit: Annotated[
        int | None, typer.Option(min=1, help="At most N items per suite (a fixed sample).")
    ] = None,
    shared_data: Annotated[Path, typer.Option(help="The shared data folder.")] = Path(
        "../shared/data"
    ),
    seed: Annotated[
        int,
        typer.Option(
            help="Seed of the bootstrap intervals of statistics that are not proportions"
            " (none of the built-in suites reports one: rates get Wilson intervals, which"
            " need no seed); recorded in the report. The --limit sample is drawn with"
            " --sample-seed, not this."
        ),
    ] = 0,
    sample_seed: Annotated[
        int | None,
        typer.Option(
            help="With --limit: draw a sample stratified by each suite's categories, with"
            " this seed (default: the fixed sha256-ordered sample)."
        ),
    ] = None,
    model: Annotated[
        str, typer.Option(help="Model name sent to an openai: or gateway: target.")
    ] = "default",
    api_key_env: Annotated[
        str | None,
        typer.Option(help="Environment variable holding the API key of a remote target."),
    ] = None,
    threads: Annotated[
        int, typer.Option(min=1, help="llama.cpp threads of an embedded: target.")
    ] = 2,
    resume: Annotated[
        bool,
        typer.Option(help="Replay the answers already in --out's results.jsonl; ask the rest."),
    ] = False,
    baseline: Annotated[
        Path | None,
        typer.Option(help="A previous run's folder: also write compare.{md,json} against it."),
    ] = None,
) -> None:
    """Run evaluation suites; write results.jsonl (records) and report.{json,md,html}."""
    if ctx.invoked_subcommand is None:
        remote = (model, api_key_env)
        _run(
            EvalOptions(
                suite,
                target,
                config,
                out,
                limit,
                shared_data,
                seed,
                remote,
                resume,
                sample_seed,
                threads,
            )
        )
        if baseline is not None:
            _compare(baseline, out, out)


@dataclass(frozen=True, slots=True)
class EvalOptions:
    """The flags of one ``bastion eval`` call."""

    suite: str
    target: str
    config: Path | None
    out: Path
    limit: int | None
    shared_data: Path
    seed: int
    remote: tuple[str, str | None] = ("default", None)
    resume: bool = False
    sample_seed: int | None = None
    threads: int = 2


def _remote_options(options: EvalOptions) -> RemoteOptions:
    """The remote target's options; the API key is read here, from the variable named."""
    import os

    from bastion.core.errors import ConfigError
    from bastion.eval.targets import RemoteOptions

    model, variable = options.remote
    key = os.environ.get(variable) if variable else None
    if variable and not key:
        raise ConfigError(f"environment variable {variable} (--api-key-env) is not set")
    return RemoteOptions(model=model, api_key=key)


def _run(options: EvalOptions) -> None:
    from bastion.eval import RunSettings, SuiteDeps, build_suite_registry, resolve_suites
    from bastion.eval.report import write_reports
    from bastion.eval.resume import Recording, recorded_answers
    from bastion.eval.runner import run_suites, write_records
    from bastion.eval.targets import build_target, parse_target
    from bastion.policy import load_policy
    from bastion.records import RecordWriter

    spec = parse_target(options.target)
    plugins = resolve_suites(options.suite, build_suite_registry())
    guard = build_guard(spec.config or options.config, None) if spec.needs_guard else None
    built = build_target(spec, guard, threads=options.threads, remote=_remote_options(options))
    settings = RunSettings(options.shared_data, options.limit, options.seed, options.sample_seed)
    deps = SuiteDeps(guard.policy if guard is not None else load_policy(), settings)
    out = options.out
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"{out}: cannot write the results ({exc})") from None
    path = out / "results.jsonl"
    known = recorded_answers(path, built.name) if options.resume else {}
    with RecordWriter(path) as writer, _progress() as progress:
        recording = Recording(writer, known)
        report = run_suites(built, plugins, deps, progress=progress, recording=recording)
    if known:
        typer.echo(f"resumed: {len(known)} recorded answers available for replay")
    try:
        count = write_records(report, path)
        write_reports(report, out)
    except OSError as exc:
        raise InputError(f"{out}: cannot write the results ({exc})") from None
    _summary(report)
    typer.echo(
        f"wrote {count} records to {printable(str(out / 'results.jsonl'))} and "
        f"report.json, report.md, report.html in {printable(str(out))}"
    )


@eval_app.command("compare")
@clean_errors
def compare(
    run_a: Annotated[Path, typer.Argument(help="Run A's folder (or its report.json).")],
    run_b: Annotated[Path, typer.Argument(help="Run B's folder (or its report.json).")],
    out: Annotated[
        Path | None, typer.Option(help="Folder for compare.md and compare.json.")
    ] = None,
) -> None:
    """Compare two runs: each shared metric, B - A with a 95 % interval."""
    _compare(run_a, run_b, out)


def _compare(run_a: Path, run_b: Path, out: Path | None) -> None:
    import json

    from bastion.eval.compare import compare_reports, comparison_markdown, load_report_json

    a, b = load_report_json(run_a), load_report_json(run_b)
    diffs = compare_reports(a, b)
    text = comparison_markdown(a, b, diffs)
    if out is not None:
        try:
            out.mkdir(parents=True, exist_ok=True)
            (out / "compare.md").write_text(text, "utf-8")
            data = {
                "a": a.get("run_id"),
                "b": b.get("run_id"),
                "diffs": [d.to_dict() for d in diffs],
            }
            (out / "compare.json").write_text(json.dumps(data, indent=2) + "\n", "utf-8")
        except OSError as exc:
            raise InputError(f"{out}: cannot write the comparison ({exc})") from None
    typer.echo(printable(text))


@eval_app.command("list")
def list_suites() -> None:
    """List the registered suites with their metadata."""
    from rich.table import Table

    from bastion.eval import build_suite_registry

    table = Table("suite", "targets", "tags", "description")
    for plugin in build_suite_registry():
        table.add_row(
            plugin.name, ", ".join(plugin.targets), ", ".join(plugin.tags), plugin.description
        )
    stdout_console().print(table)


@contextlib.contextmanager
def _progress() -> Iterator[SuiteProgress | None]:
    """A rich bar per suite on stderr when it is a terminal; nothing otherwise."""
    from rich.console import Console

    console = Console(stderr=True)
    if not console.is_terminal:
        yield None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    with Progress(
        "{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=console,
    ) as bar:
        tasks: dict[str, TaskID] = {}

        def advance(name: str, done: int, total: int) -> None:
            if name not in tasks:
                tasks[name] = bar.add_task(name, total=total)
            bar.update(tasks[name], completed=done, total=total)

        yield advance


def _summary(report: EvalReport) -> None:
    from rich.table import Table

    from bastion.eval.report import fmt

    table = Table("suite", "metric", "value [95 % CI] (n)", title=f"target: {report.target}")
    for suite in report.suites:
        if suite.skipped or not suite.metrics:
            table.add_row(suite.suite, "-", printable(suite.notes[0] if suite.notes else "skipped"))
            continue
        for metric in suite.metrics:
            table.add_row(suite.suite, metric.name, fmt(metric))
    stdout_console().print(table)
