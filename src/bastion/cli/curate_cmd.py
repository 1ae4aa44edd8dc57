"""``bastion curate``: filter a training corpus with the policy the guard enforces."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal

import typer

from bastion.cli._common import clean_errors, stdout_console

if TYPE_CHECKING:
    from bastion.curate.engines import ShardProgress
    from bastion.curate.run import CurateResult, RowCallback

__all__ = ["curate"]


@dataclass(frozen=True, slots=True)
class CurateCliOptions:
    """The command's options, parsed."""

    source: Path
    out: Path
    policy: Path | None
    config: Path | None
    context: str | None
    engine: Literal["local", "ray"]
    workers: int
    resume: bool
    address: str | None
    parquet: bool


@clean_errors
def curate(  # noqa: PLR0913 - one flag per documented option
    source: Annotated[
        Path | None,
        typer.Argument(help="Corpus: a .jsonl/.jsonl.gz/.csv/.parquet file or a folder of them."),
    ] = None,
    out: Annotated[Path | None, typer.Option(help="Output folder.")] = None,
    policy: Annotated[Path | None, typer.Option(help="Policy YAML (default: embedded).")] = None,
    config: Annotated[
        Path | None, typer.Option(help="Curation config YAML (default: embedded).")
    ] = None,
    context: Annotated[
        str | None,
        typer.Option(help="Curation context: pretraining, sft_general, sft_minors, or yours."),
    ] = None,
    engine: Annotated[str, typer.Option(help="local or ray.")] = "local",
    workers: Annotated[
        int, typer.Option(help="Worker processes (local) or actors (ray).", min=1)
    ] = 1,
    resume: Annotated[bool, typer.Option(help="Skip shards a previous run completed.")] = False,
    address: Annotated[
        str | None, typer.Option(help="Ray cluster address (default: start a local Ray).")
    ] = None,
    parquet: Annotated[
        bool, typer.Option(help="Also write kept rows as Parquet (Hugging Face / TRL).")
    ] = False,
    list_stages: Annotated[
        bool, typer.Option("--list-stages", help="List the registered stages and exit.")
    ] = False,
) -> None:
    """Curate a corpus: kept rows, removed rows with reasons, and a report (HTML/JSON/MD)."""
    if list_stages:
        _print_stages()
        return
    if source is None or out is None:
        raise typer.BadParameter("give the corpus and --out (or --list-stages)")
    if engine not in ("local", "ray"):
        raise typer.BadParameter("--engine is local or ray")
    options = CurateCliOptions(
        source,
        out,
        policy,
        config,
        context,
        "ray" if engine == "ray" else "local",
        workers,
        resume,
        address,
        parquet,
    )
    _print_result(_run(options))


def _run(options: CurateCliOptions) -> CurateResult:
    from bastion.curate.config import load_curate_config
    from bastion.curate.run import CurateRequest
    from bastion.curate.run import curate as run_curation
    from bastion.policy.loader import load_policy

    cfg = load_curate_config(options.config)
    request = CurateRequest(
        source=options.source,
        out=options.out,
        config=cfg,
        policy=load_policy(options.policy),
        context=options.context,
        engine=options.engine,
        workers=options.workers,
        resume=options.resume,
        ray_address=options.address,
        parquet=options.parquet,
        base_dir=options.config.parent if options.config else Path.cwd(),
    )
    cfg.curation_context(options.context)  # an unknown context fails before any work
    stages = [s.name for s in cfg.enabled_stages()]
    with _progress(stages) as (shard_progress, on_row):
        return run_curation(request, progress=shard_progress, on_row=on_row)


@contextlib.contextmanager
def _progress(stages: list[str]) -> Iterator[tuple[ShardProgress | None, RowCallback | None]]:
    """Bars on a terminal: bytes read per shard, and rows judged by each stage."""
    from rich.console import Console

    console = Console(stderr=True)
    if not console.is_terminal:
        yield None, None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from bastion.cli.progress import RichProgressSink
    from bastion.curate.verdict import CuratedRow, RowAction

    with Progress(
        TextColumn("{task.description:<28}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[note]}"),
        console=console,
    ) as bars:
        tasks = {name: bars.add_task(f"stage {name}", total=None, note="") for name in stages}
        dropped = dict.fromkeys(stages, 0)

        def shard(shard: object) -> RichProgressSink:
            name = getattr(shard, "name", "shard")
            return RichProgressSink(bars, bars.add_task(f"read {name}"[:28], total=None, note=""))

        def row(row: CuratedRow) -> None:
            for verdict in row.verdicts:
                if verdict.stage in tasks:
                    dropped[verdict.stage] += verdict.action is RowAction.DROP
                    bars.update(
                        tasks[verdict.stage], advance=1, note=f"{dropped[verdict.stage]:,} dropped"
                    )

        yield shard, row


def _print_result(result: CurateResult) -> None:
    totals = result.summary.model_dump(mode="json")
    console = stdout_console()
    console.print(f"curated in {result.seconds:.1f} s -> {result.out}")
    for key in ("rows", "kept", "removed", "errors", "redacted", "flagged"):
        if key in totals.get("totals", {}):
            console.print(f"  {key:<9} {totals['totals'][key]:>10,}")
    if result.skipped_shards:
        console.print(f"  resumed: {result.skipped_shards} shard(s) already done")
    console.print(f"  report: {result.out / 'report.html'}")


def _print_stages() -> None:
    from rich.table import Table

    from bastion.curate.registry import build_stage_registry

    table = Table("stage", "kind", "learned", "what it does", "options (defaults)")
    for entry in build_stage_registry():
        defaults = entry.options().model_dump(mode="json")
        opts = ", ".join(f"{k}={v}" for k, v in defaults.items())
        table.add_row(entry.name, entry.kind, "no" if entry.cheap else "yes", entry.summary, opts)
    stdout_console().print(table)
