"""``bastion harden``: the closed red-team -> retrain loop over the guard's prompt classifier."""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from bastion.cli._common import DEFAULT_SHARED_DATA, SharedData, clean_errors, stdout_console

if TYPE_CHECKING:
    from bastion.redteam.harden import HardenResult

__all__ = ["harden"]

Tick = Callable[[], None]


@contextlib.contextmanager
def _phases() -> Iterator[Callable[[str, int], Tick]]:
    """One rich bar per phase on a terminal; one line per phase on stderr otherwise."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    console = Console(stderr=True)
    if not console.is_terminal:

        def line(label: str, total: int) -> Tick:
            sys.stderr.write(f"{label} ({total})\n")
            sys.stderr.flush()
            return lambda: None

        yield line
        return
    columns = ("{task.description}", BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console) as bar:

        def phase(label: str, total: int) -> Tick:
            task = bar.add_task(label, total=total)
            return lambda: bar.advance(task)

        yield phase


def _print(result: HardenResult) -> None:
    from rich.table import Table

    from bastion.redteam.harden.report import ROUND_COLUMNS, round_cells

    table = Table(title="bastion harden: per round", title_justify="left")
    for column in ROUND_COLUMNS:
        table.add_column(column)
    for r in result.rounds:
        table.add_row(*round_cells(r))
    if result.test is not None:
        table.add_row(*round_cells(result.test))
    stdout_console().print(table)
    typer.echo(f"stopped: {result.stop_reason}; kept round {result.chosen}")


# A typer command's signature is its list of flags, so it cannot stay under six parameters.
@clean_errors
def harden(  # noqa: PLR0913
    config: Annotated[
        Path | None, typer.Option(help="Starting guard configuration YAML (default: built-in).")
    ] = None,
    out: Annotated[Path, typer.Option(help="Output folder.")] = Path("harden-run"),
    rounds: Annotated[int, typer.Option(min=1, max=20, help="Most training rounds.")] = 4,
    minutes: Annotated[float, typer.Option(min=0.1, help="Time budget in minutes.")] = 55.0,
    attacks: Annotated[str, typer.Option(help="all, or attack/family names.")] = "all",
    goals: Annotated[Path | None, typer.Option(help="Goals JSONL (default: packaged).")] = None,
    shared_data: SharedData = DEFAULT_SHARED_DATA,
    cache: Annotated[
        Path | None, typer.Option(help="Embedding cache folder (default: OUT/../.harden-cache).")
    ] = None,
    count_caution: Annotated[
        bool, typer.Option(help="A 'caution' decision counts as a bypass.")
    ] = False,
    pool_goals: Annotated[
        int,
        typer.Option(
            min=0,
            help="New harmful pool goals (shared train split) per round; 0: packaged only.",
        ),
    ] = 24,
    stack_heads: Annotated[
        bool, typer.Option(help="Each round's guard keeps the earlier rounds' heads.")
    ] = True,
    max_benign_drop: Annotated[
        float,
        typer.Option(
            min=0.0,
            max=1.0,
            help="Keep the last round whose dev benign and look-alike pass rates are within"
            " this of round 0's.",
        ),
    ] = 0.02,
    boost: Annotated[
        bool,
        typer.Option(
            help="With stacked heads, fit each new head on the round's bypasses and every"
            " safe row so far (--no-boost: on every row so far)."
        ),
    ] = True,
) -> None:
    """Attack, retrain the classifier head on the bypasses, choose on dev; then test once.

    Every round is measured on the dev split (dev goals, held-out variants, dev benign
    prompts), which chooses the kept round and stops the loop; the kept guard is then
    measured once on the test split (bastion splits show). Writes OUT/harden.html (table
    and plot), harden.json, harden.md, regression.jsonl, rounds/N/ (findings and each
    round's artifact), test/ (the test findings), and the kept artifact in OUT/artifact
    with OUT/guard.yaml pointing at it. The shipped artifact is never written.
    """
    from bastion.guard import load_config
    from bastion.redteam import load_goals
    from bastion.redteam.harden import (
        HardenSettings,
        benign_prompts,
        guard_deps,
        measure_test,
        publish,
        run_harden,
        write_harden_report,
    )
    from bastion.redteam.registry import build_attack_registry, select_attacks
    from bastion.training.data import load_examples

    base = load_config(config, environ=os.environ)
    plugins = tuple(select_attacks(build_attack_registry(), attacks))
    settings = HardenSettings(
        out=out,
        rounds=rounds,
        time_budget_s=minutes * 60,
        count_caution=count_caution,
        pool_goals_per_round=pool_goals,
        stack_heads=stack_heads,
        boost=boost,
        max_benign_drop=max_benign_drop,
    )
    with _phases() as progress:
        progress("embedding the base training set (cached)", 1)
        deps = guard_deps(
            shared_data=shared_data,
            base=base,
            plugins=plugins,
            goals=load_goals(goals),
            cache=cache or out.resolve().parent / ".harden-cache",
            progress=progress,
        )
        result = run_harden(settings, deps)
        # The one reading of the test side: after the loop chose its round on dev.
        test_prompts = benign_prompts(load_examples(shared_data), "test")
        result = measure_test(result, settings, deps, test_prompts)
    files = write_harden_report(result, out)
    kept = publish(result, out, base)
    _print(result)
    typer.echo(f"report: {files.html}")
    typer.echo(f"guard: {out / 'guard.yaml'}" if kept else "kept the starting guard")
