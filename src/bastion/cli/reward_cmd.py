"""``bastion reward score``: the safety reward of one response, or of a whole JSONL file."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from bastion.cli._common import clean_errors, json_text, printable

if TYPE_CHECKING:
    from bastion.shaping import RewardModel

__all__ = ["reward_app"]

reward_app = typer.Typer(
    help="Score replies with the safety reward model (higher is safer and more helpful).",
    no_args_is_help=True,
)


def _model(artifact: Path | None) -> RewardModel:
    from bastion.shaping import RewardModel

    return RewardModel.load(artifact)


# A typer command's signature is its list of flags, so it cannot stay under six parameters.
@reward_app.command("score")
@clean_errors
def score(  # noqa: PLR0913
    prompt: Annotated[str | None, typer.Option(help="The user's message.")] = None,
    response: Annotated[str | None, typer.Option(help="The assistant's reply to score.")] = None,
    source: Annotated[
        Path | None, typer.Option("--in", help="JSONL rows with 'prompt' and 'response'.")
    ] = None,
    dest: Annotated[
        Path | None, typer.Option("--out", help="JSONL output: each row plus 'reward'.")
    ] = None,
    skip_bad: Annotated[
        bool, typer.Option("--skip-bad", help="Batch: write bad rows with an error, go on.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    artifact: Annotated[
        Path | None, typer.Option(help="Reward-model artifact folder (default: packaged).")
    ] = None,
) -> None:
    """Score a reply to a prompt, or every row of a JSONL file (--in/--out)."""
    batch = source is not None or dest is not None
    if batch and (source is None or dest is None):
        raise typer.BadParameter("batch mode needs both --in FILE and --out FILE")
    if batch and (prompt is not None or response is not None):
        raise typer.BadParameter("give --prompt/--response or --in/--out, not both")
    if not batch and (prompt is None or response is None):
        raise typer.BadParameter("give --prompt and --response (or --in FILE --out FILE)")
    if not batch and skip_bad:
        raise typer.BadParameter("--skip-bad applies to batch mode (--in/--out)")
    model = _model(artifact)
    if source is not None and dest is not None:
        _batch(model, source, dest, skip_bad=skip_bad, as_json=as_json)
        return
    assert prompt is not None  # checked above
    assert response is not None
    reward = model.score(prompt, response)
    if as_json:
        typer.echo(json_text({"prompt": prompt, "response": response, "reward": reward}))
    else:
        typer.echo(f"{reward:.4f}")


def _batch(model: RewardModel, source: Path, dest: Path, *, skip_bad: bool, as_json: bool) -> None:
    from bastion.cli.progress import terminal_progress
    from bastion.shaping.score_file import score_file

    with terminal_progress(f"scoring {printable(source.name)}") as progress:
        summary = score_file(model, source, dest, skip_bad=skip_bad, progress=progress)
    if as_json:
        typer.echo(json_text(summary.to_dict()))
        return
    typer.echo(
        f"scored {summary.scored} of {summary.rows} rows ({summary.bad} bad) "
        f"in {summary.seconds:.1f} s -> {printable(str(dest))}"
    )
