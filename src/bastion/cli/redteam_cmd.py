"""``bastion redteam run|list|report``: attack a target, list the attacks, write reports."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

import typer

from bastion.cli._common import (
    DEFAULT_SHARED_DATA,
    SharedData,
    build_guard,
    clean_errors,
    json_text,
    printable,
    stdout_console,
)
from bastion.cli.redteam_judges import JUDGE_HELP, judges

if TYPE_CHECKING:
    from bastion.core.registry import Registry
    from bastion.models.llm import LlmBackend
    from bastion.redteam import (
        AttackPlugin,
        Campaign,
        Finding,
        Goal,
        Judge,
        RunOptions,
        Target,
    )
    from bastion.redteam.judge_info import JudgeCard
    from bastion.redteam.report import Summary
    from bastion.redteam.session import RunFolder

__all__ = ["redteam_app"]

redteam_app = typer.Typer(
    help="Red-team a guard or a model: run attacks, list them, report success rates.",
    no_args_is_help=True,
)

_TARGET_HELP = (
    "guard | embedded:smollm2 | embedded:smollm2+guard (or qwen) | openai:URL | gateway:URL "
    "(URL: the API root, e.g. http://127.0.0.1:8000/v1)."
)


def _attacker(name: str | None) -> LlmBackend | None:
    if name is None:
        return None
    from bastion.models.llm import LlamaCppBackend, model_path

    return LlamaCppBackend(model_path(name), threads=1, seed=1)


@contextlib.contextmanager
def _progress(total: int) -> Iterator[Callable[[], None]]:
    """Advance a rich bar on stderr (only on a terminal)."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    console = Console(stderr=True)
    if not console.is_terminal:
        yield lambda: None
        return
    columns = ("{task.description}", BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with Progress(*columns, console=console) as bar:
        task = bar.add_task("attacking", total=total)
        yield lambda: bar.advance(task)


def _print_summary(summary: Summary) -> None:
    from rich.table import Table

    card = summary.judge
    judged = f"judge {card.name}, {card.label}" if card is not None else "judge not recorded"
    table = Table(title=f"attack success rate by family ({judged})", title_justify="left")
    columns = ["family", "ASR", "95% CI", "successes/trials", "errors"]
    if summary.bypass_goals:
        columns.append(f"bypass ({summary.bypass_goals} goals the plain request missed)")
    for column in columns:
        table.add_column(column)
    for family, rate in {**summary.by_family, "overall": summary.overall}.items():
        low, high = rate.interval
        row = [family, f"{rate.asr:.1%}", f"{low:.1%} - {high:.1%}"]
        row += [f"{rate.successes}/{rate.trials}", str(rate.errors)]
        if summary.bypass_goals:
            bypass = summary.bypass_by_family.get(family)
            row.append(f"{bypass.asr:.1%} ({bypass.successes}/{bypass.trials})" if bypass else "")
        table.add_row(*row)
    stdout_console().print(table)


# A typer command's signature is its list of flags, so it cannot stay under six parameters.
@redteam_app.command("run")
@clean_errors
def run(  # noqa: PLR0913
    target: Annotated[str, typer.Option(help=_TARGET_HELP)] = "guard",
    config: Annotated[Path | None, typer.Option(help="Guard configuration YAML.")] = None,
    attacks: Annotated[
        str, typer.Option(help="all, or attack/family names, comma-separated.")
    ] = "all",
    goals: Annotated[Path | None, typer.Option(help="Goals JSONL (default: packaged set).")] = None,
    out: Annotated[Path, typer.Option(help="Run folder (findings, report).")] = Path("redteam-run"),
    limit: Annotated[int | None, typer.Option(min=1, help="At most N goals per attack.")] = None,
    concurrency: Annotated[int, typer.Option(min=1, max=64, help="Pairs at once.")] = 2,
    retries: Annotated[int, typer.Option(min=0, max=10, help="Retries on target errors.")] = 2,
    resume: Annotated[bool, typer.Option(help="Skip pairs already in --out.")] = False,
    attacker: Annotated[str | None, typer.Option(help="Attacker model: smollm2 | qwen.")] = None,
    judge: Annotated[str, typer.Option(help=JUDGE_HELP)] = "auto",
    count_caution: Annotated[
        bool, typer.Option(help="Guard target: a 'caution' decision counts as a bypass.")
    ] = True,
    model: Annotated[str, typer.Option(help="HTTP targets: the model name sent.")] = "default",
    api_key_env: Annotated[
        str, typer.Option(help="HTTP targets: environment variable holding the API key.")
    ] = "OPENAI_API_KEY",
    block_harmful: Annotated[
        bool, typer.Option(help="+guard targets: also replace replies found harmful.")
    ] = False,
    harm_threshold: Annotated[
        float | None,
        typer.Option(
            min=0.0,
            help="--block-harmful: replace at this p(harmful) or above "
            "(default: the response classifier's operating threshold).",
        ),
    ] = None,
    allowed_harm_threshold: Annotated[
        float | None,
        typer.Option(
            min=0.0,
            help="--block-harmful: the threshold for replies to inputs the guard allowed "
            "outright (default: --harm-threshold; above 1: never replace those).",
        ),
    ] = None,
    trust_allowed: Annotated[
        bool,
        typer.Option(
            help="--block-harmful: for inputs the guard allowed outright, a soft-limit "
            "refusal of the reply also needs --allowed-harm-threshold (hard limits always "
            "replace; design note 0038).",
        ),
    ] = False,
    benign: Annotated[
        int, typer.Option(min=0, help="Also send N held-out benign prompts (benign.json).")
    ] = 0,
    split: Annotated[
        str,
        typer.Option(
            help="Goals of one side of the pinned split (train | dev | test; all: every "
            "goal). Published figures use test; anything that chooses uses dev.",
        ),
    ] = "all",
    shared_data: SharedData = DEFAULT_SHARED_DATA,
) -> None:
    """Run attacks on a target; findings go to OUT/findings.jsonl, the report beside them."""
    from bastion.cli.redteam_judges import build_judge, check_choice, run_judge_card
    from bastion.redteam import RunOptions, build_target, load_goals
    from bastion.redteam.registry import build_attack_registry, select_attacks
    from bastion.redteam.runner import spread_goals
    from bastion.redteam.session import RunFolder
    from bastion.redteam.splits import goals_of_split
    from bastion.redteam.targets import HarmBlock, HttpOptions

    check_choice(judge)
    chosen = select_attacks(build_attack_registry(), attacks)
    goal_set = spread_goals(goals_of_split(load_goals(goals), split), limit)
    meta: dict[str, Any] = {"attacks": [p.name for p in chosen], "goals": str(goals or "packaged")}
    meta |= {"split": split}
    meta |= {"limit": limit, "config": config, "judge": judge, "count_caution": count_caution}
    blocking = (
        HarmBlock(harm_threshold, allowed_harm_threshold, trust_allowed) if block_harmful else None
    )
    meta |= {"attacker": attacker, "model": model, "block_harmful": block_harmful}
    meta |= {"harm_block": blocking.to_dict() if blocking else None}
    chosen_judge, judge_names = build_judge(target, judge, count_caution=count_caution)
    http = HttpOptions(model=model, api_key=os.environ.get(api_key_env) or None)
    the_target = build_target(
        target,
        guard=lambda: build_guard(config, None),
        http=http,
        block_harmful=blocking or False,
    )
    meta |= {"judge_card": run_judge_card(target, judge_names, config).to_dict()}
    folder = RunFolder.open(out, target=target, resume=resume, meta=meta)
    campaign = _campaign(folder, target, chosen, goal_set, attacker, split)
    options = RunOptions(concurrency=concurrency, retries=retries)
    try:
        count, hits = _execute(campaign, the_target, chosen_judge, folder.findings, options)
        if benign:
            _benign(the_target, benign, shared_data, out, "dev" if split == "dev" else "test")
    finally:
        if callable(closing := getattr(the_target, "close", None)):
            closing()  # HTTP targets hold a connection pool
    typer.echo(f"{count} new findings ({hits} successful) in {folder.findings}")
    _report_folder(out, None, out)


def _benign(
    target: Target, n: int, shared_data: Path, out: Path, side: Literal["dev", "test"]
) -> None:
    """Measure and write the benign pass rate on ``n`` held-out benign prompts of ``side``."""
    from bastion.redteam.benign import benign_sample, measure_benign
    from bastion.redteam.harden.build import benign_prompts
    from bastion.training.data import load_examples

    prompts = benign_sample(benign_prompts(load_examples(shared_data), side), n)
    with _progress(len(prompts)) as tick:
        result = measure_benign(target, prompts, tick)
    path = result.write(out)
    rate = result.passed
    typer.echo(f"benign pass rate {rate.asr:.1%} ({rate.successes}/{rate.trials}) in {path}")


def _campaign(
    folder: RunFolder,
    target: str,
    chosen: list[AttackPlugin],
    goals: tuple[Goal, ...],
    attacker: str | None,
    split: str,
) -> Campaign:
    """The chosen attacks, built (with the attacker model, if any), over ``goals``; on the
    ``dev`` or ``test`` split each is limited to that side's variants."""
    from bastion.redteam import AttackDeps, Campaign
    from bastion.redteam.splits import side_attacks

    deps = AttackDeps(attacker=_attacker(attacker))
    built = side_attacks(chosen, split, deps)
    return Campaign(folder.run_id, target, built, goals, folder.done)


def _execute(
    campaign: Campaign, target: Target, judge: Judge, findings: Path, options: RunOptions
) -> tuple[int, int]:
    """Run the campaign, appending records and drawing progress; (findings, successes)."""
    from bastion.records import RecordWriter, utc_now
    from bastion.redteam import run_campaign
    from bastion.redteam.runner import plan_pairs
    from bastion.redteam.session import FindingSink
    from bastion.redteam.splits import NO_VARIANT

    with RecordWriter(findings) as writer, _progress(len(plan_pairs(campaign))) as tick:
        sink = FindingSink(writer, utc_now)

        def record(finding: Finding) -> None:
            if finding.note != NO_VARIANT:  # a held-out side without this attack's variant
                sink(finding)
            tick()

        run_campaign(campaign, target, judge, record, options=options)
    return sink.count, sink.successes


def _recorded_card(run_dir: Path, findings: list[Finding]) -> JudgeCard | None:
    """The judge card ``run.json`` recorded; an older run's, read from its findings."""
    import json

    from bastion.redteam.judge_info import JudgeCard, card_from_findings
    from bastion.redteam.session import RUN_FILE

    try:
        meta = json.loads((run_dir / RUN_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        meta = {}
    meta = meta if isinstance(meta, dict) else {}
    if isinstance(meta.get("judge_card"), dict):
        return JudgeCard.from_dict(meta["judge_card"])
    return card_from_findings(findings, choice=meta.get("judge"))


def _report_folder(run_dir: Path, baseline: Path | None, out: Path) -> None:
    from bastion.redteam import read_findings
    from bastion.redteam.report import diff_runs, summarize, write_report
    from bastion.redteam.session import FINDINGS_FILE

    findings = read_findings(run_dir / FINDINGS_FILE)
    summary = summarize(findings, judge=_recorded_card(run_dir, findings))
    diff = None
    if baseline is not None:
        diff = diff_runs(read_findings(baseline / FINDINGS_FILE), findings)
    files = write_report(summary, diff, out)
    _print_summary(summary)
    typer.echo(f"report: {files.html} ({files.markdown.name}, {files.json.name})")


@redteam_app.command("report")
@clean_errors
def report(
    run_dir: Annotated[Path, typer.Argument(help="A run folder (holding findings.jsonl).")],
    baseline: Annotated[
        Path | None, typer.Option(help="Another run folder to compare with.")
    ] = None,
    out: Annotated[Path | None, typer.Option(help="Where to write (default: RUN_DIR).")] = None,
) -> None:
    """Write report.json, report.md and report.html for a run (and its diff to a baseline)."""
    _report_folder(run_dir, baseline, out or run_dir)


def _registry() -> Registry[AttackPlugin]:
    from bastion.redteam.registry import build_attack_registry

    return build_attack_registry()


@redteam_app.command("list")
@clean_errors
def list_attacks(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Show the registered attacks with their metadata."""
    plugins = list(_registry())
    if as_json:
        typer.echo(json_text([p.to_dict() for p in plugins]))
        return
    from rich.table import Table

    table = Table(title="attacks", title_justify="left")
    for column in ("name", "family", "turns", "tags", "description", "references"):
        table.add_column(column, overflow="fold")
    for p in plugins:
        turns = "multi" if p.multi_turn else "single"
        refs = "; ".join(p.references)
        table.add_row(
            p.name, p.family.value, turns, ", ".join(p.tags), printable(p.description), refs
        )
    stdout_console().print(table)


redteam_app.command("judges")(judges)
