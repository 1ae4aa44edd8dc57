"""``bastion export dpo|sft``: TRL-ready preference and SFT data from records and candidates."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from bastion.cli._common import clean_errors, json_text, printable

if TYPE_CHECKING:
    from bastion.shaping import ExportFormat, ExportSummary, PairSource

__all__ = ["export_app"]

export_app = typer.Typer(
    help="Export preference data (DPO) or demonstrations (SFT) as TRL-ready JSONL.",
    no_args_is_help=True,
)

RecordsOpt = Annotated[
    list[Path] | None,
    typer.Option("--records", help="Guard decision records (bastion check --record). Repeatable."),
]
CandidatesOpt = Annotated[
    list[Path] | None,
    typer.Option(
        "--candidates",
        help="JSONL of {prompt, responses: [...]}, ranked by the reward model. Repeatable.",
    ),
]
OutOpt = Annotated[Path, typer.Option("--out", help="The JSONL file to write.")]
MinRewardOpt = Annotated[
    float | None, typer.Option(help="Candidates: the least reward the chosen reply needs.")
]
SkipBadOpt = Annotated[
    bool,
    typer.Option("--skip-bad", help="Skip malformed input lines (counted) instead of failing."),
]
ProvenanceOpt = Annotated[
    bool, typer.Option(help="Add 'source' (file:line) and 'margin' to every row.")
]
ArtifactOpt = Annotated[
    Path | None, typer.Option(help="Reward-model artifact folder (default: packaged).")
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")]


@dataclass(frozen=True, slots=True)
class ExportOptions:
    """The flags of one export call."""

    records: list[Path]
    candidates: list[Path]
    out: Path
    min_margin: float
    min_reward: float | None
    skip_bad: bool
    provenance: bool
    artifact: Path | None
    as_json: bool


# Typer commands list their flags as parameters; they only pack them and hand over.
@export_app.command("dpo")
@clean_errors
def dpo(  # noqa: PLR0913
    out: OutOpt,
    records: RecordsOpt = None,
    candidates: CandidatesOpt = None,
    min_margin: Annotated[
        float, typer.Option(min=0.0, help="Candidates: the least reward margin a pair needs.")
    ] = 0.5,
    min_reward: MinRewardOpt = None,
    skip_bad: SkipBadOpt = False,
    provenance: ProvenanceOpt = False,
    artifact: ArtifactOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Write DPO preference pairs: {prompt, chosen, rejected} in TRL's conversational format."""
    from bastion.shaping import ExportFormat

    opts = ExportOptions(
        records or [], candidates or [], out, min_margin, min_reward, skip_bad, provenance,
        artifact, as_json,
    )  # fmt: skip
    _run(opts, ExportFormat.DPO)


@export_app.command("sft")
@clean_errors
def sft(  # noqa: PLR0913
    out: OutOpt,
    records: RecordsOpt = None,
    candidates: CandidatesOpt = None,
    min_reward: MinRewardOpt = None,
    skip_bad: SkipBadOpt = False,
    provenance: ProvenanceOpt = False,
    artifact: ArtifactOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Write SFT conversations: {messages: [user..., assistant]} (the preferred reply)."""
    from bastion.shaping import ExportFormat

    opts = ExportOptions(
        records or [], candidates or [], out, 0.0, min_reward, skip_bad, provenance,
        artifact, as_json,
    )  # fmt: skip
    _run(opts, ExportFormat.SFT)


def _sources(opts: ExportOptions) -> list[PairSource]:
    from bastion.shaping import CandidatePairSource, RecordPairSource, RewardModel

    sources: list[PairSource] = [RecordPairSource(p, skip_bad=opts.skip_bad) for p in opts.records]
    if opts.candidates:
        model = RewardModel.load(opts.artifact)
        sources += [
            CandidatePairSource(
                path,
                model,
                min_margin=opts.min_margin,
                min_reward=opts.min_reward,
                skip_bad=opts.skip_bad,
            )
            for path in opts.candidates
        ]
    return sources


def _run(opts: ExportOptions, fmt: ExportFormat) -> None:
    from bastion.shaping import export_pairs

    if not opts.records and not opts.candidates:
        raise typer.BadParameter("give at least one --records FILE or --candidates FILE")
    inputs = [p.resolve() for p in (*opts.records, *opts.candidates) if p.exists()]
    if opts.out.exists() and opts.out.resolve() in inputs:
        raise typer.BadParameter("--out must not be one of the input files")
    summary = export_pairs(_sources(opts), opts.out, fmt, provenance=opts.provenance)
    typer.echo(json_text(summary.to_dict()) if opts.as_json else _summary_line(summary))


def _summary_line(summary: ExportSummary) -> str:
    skipped = ", ".join(f"{k} {v}" for k, v in sorted(summary.skipped.items())) or "none"
    noun = "pairs" if summary.format.value == "dpo" else "conversations"
    return (
        f"wrote {summary.written} {summary.format.value.upper()} {noun} to "
        f"{printable(str(summary.dest))}; skipped: {skipped}"
    )
