"""Generate assistant replies with the embedded GGUF models (the generated-responses set).

SmolLM2-135M complies with most harmful requests, Qwen2.5-Coder-0.5B refuses most of
them; together they give the harmful-compliance and refusal examples that the response
classifier and the reward model need, on the *same* prompts (Qwen answers the first
prompts of SmolLM2's list, so there are refusal/compliance pairs).

Prompts come only from the ``train`` and ``dev`` splits of the shared prompts (the splits
of :mod:`bastion.training.data`; nothing of ``test``) and from the contrast set's ``dev``
pairs. Each reply gets a heuristic ``kind`` (refusal markers; see :func:`reply_kind`) and a
``harmful`` flag. Sampling uses a fixed seed per prompt, so a rerun on the same machine
gives the same file; records are appended as they are made (a run can be resumed and
partial data used early) and the file is rewritten sorted and de-duplicated at the end.

Run: ``nice -n 10 python -m bastion.training.generate_responses --limit 20``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass
from itertools import zip_longest
from pathlib import Path
from typing import Any, Final

from bastion.core.types import Message, Role
from bastion.datasets import load_contrast_set
from bastion.models.llm import GenerationOptions, LlmBackend
from bastion.training.data import Example, bucket, load_examples

__all__ = [
    "DEFAULT_OUT",
    "KINDS",
    "PLANS",
    "GenerateSettings",
    "GeneratedResponse",
    "Plan",
    "PromptItem",
    "finalise",
    "generate_responses",
    "main",
    "reply_kind",
    "select_prompts",
]

DEFAULT_OUT: Final = Path(__file__).resolve().parents[1] / "datasets/generated_responses_v1.jsonl"
KINDS: Final = ("refusal", "partial", "compliance")
Progress = Callable[[int, int], None]


@dataclass(frozen=True, slots=True)
class Plan:
    """How many prompts of each kind one model answers (contrast counts prompts: half
    safe, half unsafe, from the same pairs)."""

    harmful: int
    benign: int
    contrast: int = 0


PLANS: Final[Mapping[str, Plan]] = {
    "smollm2": Plan(harmful=250, benign=100, contrast=60),
    "qwen": Plan(harmful=120, benign=40, contrast=0),
}
"""The shipped set's plan, model by model (SmolLM2 first)."""


@dataclass(frozen=True, slots=True)
class PromptItem:
    """One prompt to answer: text, label (1 unsafe), source and split."""

    text: str
    label: int
    source: str
    split: str


@dataclass(frozen=True, slots=True)
class GeneratedResponse:
    """One record of the set (field meanings in ``GENERATED_RESPONSES_CARD.md``)."""

    id: str
    prompt: str
    prompt_label: int
    prompt_source: str
    prompt_split: str
    model: str
    text: str
    kind: str
    harmful: int


@dataclass(frozen=True, slots=True)
class GenerateSettings:
    """Where to read and write, what to generate and how."""

    shared_data: Path
    out: Path = DEFAULT_OUT
    models: tuple[str, ...] = ("smollm2", "qwen")
    limit: int | None = None
    seed: int = 0
    max_tokens: int = 120
    temperature: float = 0.7


# --- prompt selection ---------------------------------------------------------------------


def _key(seed: int, text: str) -> str:
    return hashlib.sha256(f"{seed}:{text}".encode("utf-8", "replace")).hexdigest()


def _round_robin(examples: list[Example], seed: int) -> list[Example]:
    """Hash-shuffled, interleaved by source so that no one source dominates a prefix."""
    by_source: dict[str, list[Example]] = {}
    for example in sorted(examples, key=lambda e: _key(seed, e.text)):
        by_source.setdefault(example.source, []).append(example)
    lanes = [by_source[name] for name in sorted(by_source)]
    return [e for row in zip_longest(*lanes) for e in row if e is not None]


def _shared_items(root: Path, label: int, seed: int) -> list[PromptItem]:
    pool = [
        e
        for e in load_examples(root)
        if e.label == label
        and e.split in ("train", "dev")  # never the test split
        and e.source not in ("contrast", "tensor_trust")
    ]
    return [PromptItem(e.text, e.label, e.source, e.split) for e in _round_robin(pool, seed)]


def _contrast_items(seed: int) -> list[PromptItem]:
    pairs = sorted(load_contrast_set("dev"), key=lambda p: _key(seed, p.id))
    out = []
    for pair in pairs:
        split = bucket(pair.id, train=70, dev=30)  # the same split as training/data.py
        out.append(PromptItem(pair.safe, 0, "contrast", split))
        out.append(PromptItem(pair.unsafe, 1, "contrast", split))
    return out


def select_prompts(root: Path, plan: Plan, seed: int = 0) -> list[PromptItem]:
    """The prompts one model answers: ``plan`` harmful, benign and contrast prompts.

    The order is fixed by ``seed``; a smaller plan takes a prefix of a larger one, so two
    models with different plans share their first prompts.
    """
    harmful = _shared_items(root, 1, seed)[: plan.harmful]
    benign = _shared_items(root, 0, seed)[: plan.benign]
    contrast = _contrast_items(seed)[: plan.contrast]
    return harmful + benign + contrast


# --- the reply heuristic ------------------------------------------------------------------

_APOLOGY = r"i\s*(?:'|’)?\s*(?:m|am)\s+(?:sorry|afraid)\b[^.!?\n]{0,40}?"
_REFUSAL = re.compile(
    r"\b(?:" + _APOLOGY + r"\b(?:but|can(?:'|’)?t|cannot|unable|not able|won(?:'|’)?t)"
    r"|i\s*(?:'|’)?\s*(?:m|am)\s+(?:not able|unable|not equipped|not going|not capable)\s+(?:to|of)"
    r"|i\s+(?:can\s*not|cannot|can(?:'|’)t|won(?:'|’)t|will not|must decline|refuse)\b"
    r"|(?:do not|don(?:'|’)t) have the (?:ability|capability)"
    r"|(?:this|that|it)\s+(?:is|would be)\s+(?:illegal|unethical|harmful|inappropriate)"
    r"|(?:not|never)\s+(?:able|allowed|appropriate|ethical)\s+to"
    r"|against (?:my|the) (?:guidelines|policy|policies|programming)"
    r"|i\s+(?:do not|don(?:'|’)t)\s+(?:condone|support|encourage|provide))",
    re.IGNORECASE,
)
_STEPS = re.compile(r"(?m)^\s*(?:\d+[.)]|[-*•]|step \d+)\s+\S")
_OPENING_CHARS: Final = 160
_SUBSTANCE_WORDS: Final = 70


def reply_kind(text: str) -> str:
    """Heuristic kind of a reply: ``refusal``, ``partial`` or ``compliance``.

    A refusal marker ("I can't", "I'm sorry, but", "this is illegal", ...) in the
    opening is a refusal, unless the reply goes on at length or with a list of steps
    (``partial``: refuses, then gives substance). A marker only later is ``partial``.
    No marker is ``compliance``. An empty reply is a refusal (nothing was given).
    """
    body = text.strip()
    if not body:
        return "refusal"
    first = _REFUSAL.search(body)
    if first is None:
        return "compliance"
    if first.start() >= _OPENING_CHARS:
        return "partial"
    rest = body[first.end() :]
    substantial = len(rest.split()) >= _SUBSTANCE_WORDS or _STEPS.search(rest) is not None
    return "partial" if substantial else "refusal"


def is_harmful(prompt_label: int, kind: str) -> int:
    """1 when the prompt is unsafe and the reply gives substance (complies, or partly)."""
    return int(prompt_label == 1 and kind in ("compliance", "partial"))


# --- generation ---------------------------------------------------------------------------


def record_id(model: str, prompt: str) -> str:
    """``gr1-<model>-<12 hex of sha256(prompt)>``."""
    return f"gr1-{model}-{hashlib.sha256(prompt.encode('utf-8', 'replace')).hexdigest()[:12]}"


def _generate_one(
    backend: LlmBackend, model: str, item: PromptItem, settings: GenerateSettings
) -> GeneratedResponse:
    options = GenerationOptions(
        max_tokens=settings.max_tokens,
        temperature=settings.temperature,
        seed=int(_key(settings.seed, item.text)[:8], 16),  # per prompt: order-independent
    )
    text = backend.complete([Message(Role.USER, item.text)], options).strip()
    kind = reply_kind(text)
    return GeneratedResponse(
        id=record_id(model, item.text),
        prompt=item.text,
        prompt_label=item.label,
        prompt_source=item.source,
        prompt_split=item.split,
        model=model,
        text=text,
        kind=kind,
        harmful=is_harmful(item.label, kind),
    )


def _read_existing(path: Path) -> dict[str, dict[str, Any]]:
    if not path.is_file():
        return {}
    rows = (json.loads(line) for line in path.read_text("utf-8").splitlines() if line.strip())
    return {row["id"]: row for row in rows}


def _todo(settings: GenerateSettings, done: Mapping[str, Any]) -> Iterator[tuple[str, PromptItem]]:
    for model in settings.models:
        items = select_prompts(settings.shared_data, PLANS[model], settings.seed)
        for item in items[: settings.limit]:
            if record_id(model, item.text) not in done:
                yield model, item


def _relabelled(row: Mapping[str, Any]) -> dict[str, Any]:
    """The row with ``kind`` and ``harmful`` recomputed (the heuristic may have changed)."""
    kind = reply_kind(row["text"])
    return {**row, "kind": kind, "harmful": is_harmful(row["prompt_label"], kind)}


def finalise(path: Path) -> int:
    """Rewrite ``path`` de-duplicated, sorted and relabelled; returns the record count."""
    rows = _read_existing(path)
    _finalise(path, rows)
    return len(rows)


def _finalise(path: Path, rows: Mapping[str, Mapping[str, Any]]) -> None:
    """Rewrite the file de-duplicated (by id) and sorted by (model, id), atomically."""
    ordered = sorted((_relabelled(r) for r in rows.values()), key=lambda r: (r["model"], r["id"]))
    tmp = path.with_suffix(".jsonl.tmp")
    text = "".join(json.dumps(r, ensure_ascii=False, sort_keys=False) + "\n" for r in ordered)
    tmp.write_text(text, "utf-8")
    tmp.replace(path)


def generate_responses(
    settings: GenerateSettings,
    backends: Mapping[str, LlmBackend],
    progress: Progress | None = None,
) -> int:
    """Answer the planned prompts with each model in ``settings.models``; returns how many
    records were added. Existing records in ``settings.out`` are kept (resume)."""
    rows = _read_existing(settings.out)
    todo = list(_todo(settings, rows))
    settings.out.parent.mkdir(parents=True, exist_ok=True)
    with settings.out.open("a", encoding="utf-8") as handle:
        for done, (model, item) in enumerate(todo, start=1):
            record = asdict(_generate_one(backends[model], model, item, settings))
            rows[record["id"]] = record
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")
            handle.flush()  # others may read partial data while a run goes on
            if progress is not None:
                progress(done, len(todo))
    _finalise(settings.out, rows)
    return len(todo)


# --- command line -------------------------------------------------------------------------


def _parse(argv: Sequence[str] | None) -> tuple[GenerateSettings, int, Path | None]:
    parser = argparse.ArgumentParser(prog="python -m bastion.training.generate_responses")
    parser.add_argument("--shared-data", type=Path, default=Path("/work/shared/data"))
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--models", default="smollm2,qwen", help="comma-separated, in order")
    parser.add_argument("--limit", type=int, default=None, help="at most N prompts per model")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--cache-dir", type=Path, default=None, help="for the Qwen file")
    args = parser.parse_args(argv)
    models = tuple(m.strip() for m in args.models.split(",") if m.strip())
    unknown = sorted(set(models) - set(PLANS))
    if unknown:
        parser.error(f"unknown models {unknown}; known: {', '.join(PLANS)}")
    settings = GenerateSettings(
        shared_data=args.shared_data, out=args.out, models=models, limit=args.limit, seed=args.seed
    )
    return settings, args.threads, args.cache_dir


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry: generate with a rich progress bar; returns the exit status."""
    from rich.progress import Progress as Bar

    from bastion.models.llm import LlamaCppBackend, model_path

    settings, threads, cache_dir = _parse(argv)
    backends: dict[str, LlmBackend] = {
        name: LlamaCppBackend(model_path(name, cache_dir), threads=threads, seed=settings.seed)
        for name in settings.models
    }
    with Bar() as bar:
        task = bar.add_task("generating", total=None)
        added = generate_responses(
            settings, backends, lambda done, total: bar.update(task, completed=done, total=total)
        )
    print(f"added {added} records to {settings.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
