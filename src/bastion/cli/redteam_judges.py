"""Red-team judges on the command line: which judge a run uses (and whether it is
independent of the target), and ``bastion redteam judges``, their agreement with humans.

Registered on ``redteam_app`` by :mod:`bastion.cli.redteam_cmd`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Final

import typer

from bastion.cli._common import (
    DEFAULT_SHARED_DATA,
    SharedData,
    clean_errors,
    json_text,
    stdout_console,
)

if TYPE_CHECKING:
    from bastion.redteam import Judge
    from bastion.redteam.judge_eval import JudgeScore, LabelledReply, Reader
    from bastion.redteam.judge_info import JudgeCard

__all__ = ["JUDGE_CHOICES", "JUDGE_HELP", "build_judge", "judges", "run_judge_card"]

LLM: Final = "llm:"
JUDGE_CHOICES: Final = ("auto", "reference", "response_classifier", "keyword")
JUDGE_HELP: Final = (
    "auto (guard: its decision; models: the independent reference judge) | reference | "
    "response_classifier (self-judged on guarded targets) | keyword | llm:qwen | llm:smollm2 "
    "(an LLM judge, slow; notes 0040, 0044)."
)


def check_choice(choice: str) -> None:
    """Refuse an unknown ``--judge``."""
    if choice not in JUDGE_CHOICES and choice.removeprefix(LLM) not in ("qwen", "smollm2"):
        raise typer.BadParameter(f"--judge must be one of: {JUDGE_HELP}")


def llm_judge(name: str) -> Judge:
    """The LLM judge over an embedded model (one llama.cpp thread)."""
    from bastion.models.llm import LlamaCppBackend, model_path
    from bastion.redteam.llm_judge import LlmJudge

    return LlmJudge(LlamaCppBackend(model_path(name), threads=1, n_ctx=4096))


def _reply_judge(choice: str) -> tuple[Judge, str]:
    """The reference judge (``auto`` falls back to the response classifier, loudly, when it
    cannot load), or the response classifier when asked for."""
    from bastion.core.errors import ConfigError
    from bastion.redteam import ResponseClassifierJudge
    from bastion.redteam.reference_judge import ReferenceJudge

    if choice in ("auto", "reference"):
        try:
            return ReferenceJudge.load(), "reference_judge"
        except ConfigError as exc:
            if choice == "reference":
                raise
            message = f"reference judge unavailable ({exc}); the response classifier judges"
            typer.echo(message, err=True)
    return ResponseClassifierJudge.default(), "response_classifier"


def build_judge(target: str, choice: str, *, count_caution: bool) -> tuple[Judge, list[str]]:
    """The judge a run uses and the names of its parts (the deciding one first).

    Raises:
        typer.BadParameter: a judge that cannot read the target's replies.
    """
    from bastion.redteam import AnyJudge, CanaryJudge, GuardDecisionJudge, KeywordJudge

    check_choice(choice)
    if choice == "keyword":
        return AnyJudge([KeywordJudge(), CanaryJudge()]), ["keyword", "canary"]
    if target == "guard" and choice != "auto":
        raise typer.BadParameter(f"--judge {choice} reads model replies; the guard has none")
    if choice.startswith(LLM):
        model = choice.removeprefix(LLM)
        return AnyJudge([llm_judge(model), CanaryJudge()]), [f"llm_judge:{model}", "canary"]
    if target == "guard":
        return GuardDecisionJudge(count_caution=count_caution), ["guard_decision"]
    reader, name = _reply_judge(choice)
    return AnyJudge([reader, CanaryJudge()]), [name, "canary"]


def guard_layers(target: str, config: Path | None) -> list[tuple[str, dict[str, Any]]] | None:
    """The enabled layers of the guard a target runs (None for a gateway: not visible)."""
    if target.startswith("gateway:"):
        return None
    from bastion.guard import load_config

    loaded = load_config(config, environ=os.environ, overrides={"policy": None, "context": None})
    return [(layer.type, dict(layer.params)) for layer in loaded.layers if layer.enabled]


def run_judge_card(target: str, names: list[str], config: Path | None) -> JudgeCard:
    """The card a run records: its judge's independence of ``target`` and agreement."""
    from bastion.redteam.judge_info import judge_card, packaged_agreement, target_components

    components = target_components(target, guard_layers(target, config))
    return judge_card(names, components, scores=packaged_agreement())


def _labelled(shared_data: Path, limit: int | None) -> dict[str, list[LabelledReply]]:
    """GPTFuzz dev and pyrit's sets; one that is missing is left out, aloud."""
    from bastion.core.errors import ConfigError
    from bastion.redteam.judge_eval import GPTFUZZ_FILE, load_gptfuzz, load_labelled

    out: dict[str, list[LabelledReply]] = {}
    try:
        out["gptfuzz_dev"] = load_gptfuzz(shared_data / GPTFUZZ_FILE, "dev")[:limit]
    except ConfigError as exc:
        typer.echo(f"{exc}: GPTFuzz dev is left out", err=True)
    try:
        out |= {k: v[:limit] for k, v in load_labelled().items()}
    except ConfigError as exc:
        typer.echo(f"{exc}: pyrit's tasks are left out", err=True)
    return out


def _readers(llm: str | None, unreadable: list[str]) -> dict[str, dict[str, Reader]]:
    """``readers[task][judge]``; the LLM judge under ``llm_judge:<model>``."""
    from bastion.redteam import KeywordJudge, ResponseClassifierJudge
    from bastion.redteam.judge_eval import keyword_refusal, success_reader
    from bastion.redteam.reference_judge import ReferenceJudge

    classifier = ResponseClassifierJudge.default()
    success = {
        "keyword": success_reader(KeywordJudge()),
        "response_classifier": success_reader(classifier),
        "reference_judge": success_reader(ReferenceJudge.load()),
    }
    if llm is not None:
        success[f"llm_judge:{llm}"] = success_reader(llm_judge(llm), unreadable)
    return {
        "refusal": {
            "keyword": keyword_refusal,
            "response_classifier": lambda p, r: classifier.kind(p, r) == "refusal",
        },
        "harm": dict(success),
        "gptfuzz_dev": dict(success),
    }


def _score_all(
    readers: Mapping[str, Mapping[str, Reader]],
    labelled: Mapping[str, list[LabelledReply]],
    llm_sample: int | None,
) -> tuple[list[JudgeScore], dict[str, str]]:
    """Every judge on every task; a task longer than ``llm_sample`` gives the LLM judge its
    hash sample only, and every other judge that sample too (``task@hashN``)."""
    from bastion.redteam.judge_eval import hash_sample, score

    scores, samples = [], {}
    for task, by_judge in readers.items():
        rows = labelled.get(task)
        if rows is None:
            continue
        sampled = llm_sample is not None and len(rows) > llm_sample
        for name, reader in by_judge.items():
            if not (name.startswith("llm_judge") and sampled):
                scores.append(score(name, task, reader, rows))
        if sampled and any(n.startswith("llm_judge") for n in by_judge):
            key = f"{task}@hash{llm_sample}"
            samples[key] = f"the first {llm_sample} of {len(rows)} rows by sha256(prompt NUL reply)"
            part = hash_sample(rows, llm_sample)
            scores += [score(name, key, reader, part) for name, reader in by_judge.items()]
    return scores, samples


@clean_errors
def judges(
    out: Annotated[Path | None, typer.Option(help="Write judges.json here.")] = None,
    limit: Annotated[int | None, typer.Option(min=1, help="At most N rows per task.")] = None,
    llm: Annotated[
        str | None, typer.Option(help="Also score the LLM judge (harm tasks): qwen | smollm2.")
    ] = None,
    llm_sample: Annotated[
        int | None,
        typer.Option(min=1, help="The LLM judge reads at most N rows per task (hash sample)."),
    ] = None,
    ship: Annotated[
        bool, typer.Option(help="Also write the packaged copy that run reports quote.")
    ] = False,
    shared_data: SharedData = DEFAULT_SHARED_DATA,
) -> None:
    """Score the judges against human labels: GPTFuzz dev, pyrit's refusal and harm sets."""
    from bastion.redteam.judge_eval import agreement_document

    unreadable: list[str] = []
    readers = _readers(llm, unreadable)
    scores, samples = _score_all(readers, _labelled(shared_data, limit), llm_sample)
    document = agreement_document(scores, samples)
    _print_judges(document["scores"])
    if unreadable:
        typer.echo(f"llm_judge: {len(unreadable)} verdicts unreadable (counted as no success)")
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        (out / "judges.json").write_text(json_text(document) + "\n", encoding="utf-8")
    if ship:
        _ship(document)


def _ship(document: dict[str, Any]) -> None:
    from importlib import resources

    from bastion.redteam.judge_info import AGREEMENT_FILE

    path = Path(str(resources.files("bastion.redteam").joinpath(AGREEMENT_FILE)))
    path.write_text(json_text(document) + "\n", encoding="utf-8")
    typer.echo(f"wrote {path}")


def _print_judges(scores: list[dict[str, Any]]) -> None:
    from rich.table import Table

    table = Table(title="judges against human labels", title_justify="left")
    columns = ("task", "judge", "n", "precision", "recall", "f1", "agreement", "kappa")
    for column in columns:
        table.add_column(column)
    for row in scores:
        table.add_row(
            *(f"{row[c]:.3f}" if isinstance(row[c], float) else str(row[c]) for c in columns)
        )
    stdout_console().print(table)
