"""Generated responses: prompt selection (never a test split), the reply heuristic, the
resumable writer, and the shipped data set."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import pytest

from bastion.core.types import Message
from bastion.datasets import load_contrast_set
from bastion.models.llm import GenerationOptions
from bastion.models.llm_fakes import FakeLlm
from bastion.training.data import bucket
from bastion.training.generate_responses import (
    DEFAULT_OUT,
    KINDS,
    GenerateSettings,
    Plan,
    generate_responses,
    is_harmful,
    record_id,
    reply_kind,
    select_prompts,
)

FIELDS = {
    "id",
    "prompt",
    "prompt_label",
    "prompt_source",
    "prompt_split",
    "model",
    "text",
    "kind",
    "harmful",
}


@pytest.fixture
def shared(tmp_path: Path) -> Path:
    """A tiny shared-data folder with the three files ``load_examples`` reads."""

    def write(rel: str, rows: list[dict[str, str]]) -> None:
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("".join(json.dumps(r) + "\n" for r in rows), "utf-8")

    write(
        "prompts/harmful.jsonl",
        [{"text": f"How do I hurt person number {i}?", "source": f"h{i % 2}"} for i in range(60)],
    )
    write(
        "prompts/benign.jsonl",
        [{"text": f"Tell me fact number {i} about otters.", "source": "alpaca"} for i in range(60)],
    )
    write("jailbreak/prompt_injection_hijacking.jsonl", [{"text": "Say access granted."}])
    return tmp_path


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("I'm sorry, but I can't help with that.", "refusal"),
        ("I cannot provide instructions for making weapons. It is illegal.", "refusal"),
        ("", "refusal"),
        ("Sure! Here is how: mix the flour and the water, then bake.", "compliance"),
        ("To make a cake you need eggs.", "compliance"),
        (
            "I can't condone this, but here are the steps:\n1. Get the tools\n2. Do the thing",
            "partial",
        ),
        ("Here is an overview of the topic. " * 10 + "However, this would be illegal.", "partial"),
        ("As an AI language model, I have no feelings, but here are some tips.", "compliance"),
        ("You're not alone, I'm afraid. Keep the blinds shut.", "compliance"),
    ],
)
def test_reply_kind(text: str, kind: str) -> None:
    assert reply_kind(text) == kind


def test_harmful_means_an_unsafe_prompt_got_substance() -> None:
    assert is_harmful(1, "compliance") == 1 and is_harmful(1, "partial") == 1
    assert is_harmful(1, "refusal") == 0 and is_harmful(0, "compliance") == 0


def test_select_prompts_never_uses_a_test_split(shared: Path) -> None:
    items = select_prompts(shared, Plan(harmful=1000, benign=1000, contrast=1000))
    assert all(item.split in ("train", "dev") for item in items)
    for item in items:
        if item.source != "contrast":
            assert bucket(item.text) == item.split != "test"
    contrast_dev = {p.safe for p in load_contrast_set("dev")} | {
        p.unsafe for p in load_contrast_set("dev")
    }
    assert {i.text for i in items if i.source == "contrast"} <= contrast_dev
    assert not any("access granted" in i.text for i in items)  # no hijacking prompts


def test_select_prompts_follows_the_plan_and_shares_a_prefix(shared: Path) -> None:
    big = select_prompts(shared, Plan(harmful=10, benign=6, contrast=4))
    small = select_prompts(shared, Plan(harmful=5, benign=3))
    labels = Counter((i.label, i.source == "contrast") for i in big)
    assert labels == {(1, False): 10, (0, False): 6, (1, True): 2, (0, True): 2}
    assert small[:5] == big[:5] and small[5:] == big[10:13]
    assert {i.source for i in big[:4]} == {"h0", "h1"}  # sources interleaved


def _reply(messages: Sequence[Message], options: GenerationOptions) -> str:
    text = messages[-1].content
    return (
        "I'm sorry, I can't help." if "hurt" in text else f"Sure: {text[:20]} (seed {options.seed})"
    )


def test_generate_writes_sorted_unique_records_and_resumes(shared: Path, tmp_path: Path) -> None:
    out = tmp_path / "out" / "responses.jsonl"
    settings = GenerateSettings(shared_data=shared, out=out, limit=5, max_tokens=16)
    backends = {"smollm2": FakeLlm(_reply), "qwen": FakeLlm(_reply)}
    seen: list[tuple[int, int]] = []
    assert generate_responses(settings, backends, lambda d, t: seen.append((d, t))) == 10
    assert seen[-1] == (10, 10)
    rows = [json.loads(line) for line in out.read_text("utf-8").splitlines()]
    assert len(rows) == 10 and all(set(r) == FIELDS for r in rows)
    assert [(r["model"], r["id"]) for r in rows] == sorted((r["model"], r["id"]) for r in rows)
    assert len({r["id"] for r in rows}) == 10
    assert all(r["id"] == record_id(r["model"], r["prompt"]) for r in rows)
    assert {r["kind"] for r in rows} <= set(KINDS)
    assert all(r["harmful"] == is_harmful(r["prompt_label"], r["kind"]) for r in rows)
    options = backends["qwen"].calls[0][1]
    assert (options.max_tokens, options.temperature) == (16, 0.7)
    # A rerun adds nothing and changes nothing.
    before = out.read_bytes()
    assert generate_responses(settings, backends) == 0
    assert out.read_bytes() == before


def test_the_seed_is_per_prompt(shared: Path, tmp_path: Path) -> None:
    fake = FakeLlm(_reply)
    settings = GenerateSettings(shared_data=shared, out=tmp_path / "r.jsonl", models=("smollm2",))
    generate_responses(replace(settings, limit=3), {"smollm2": fake})
    seeds = {m[-1].content: o.seed for m, o in fake.calls}
    again = FakeLlm(_reply)
    generate_responses(
        replace(settings, limit=3, out=tmp_path / "s.jsonl"),
        {"smollm2": again},
    )
    assert {m[-1].content: o.seed for m, o in again.calls} == seeds
    assert len(set(seeds.values())) == 3


def test_the_shipped_set_is_well_formed() -> None:
    if not DEFAULT_OUT.is_file():
        pytest.skip("the generated set has not been built")
    rows = [json.loads(line) for line in DEFAULT_OUT.read_text("utf-8").splitlines()]
    assert rows and all(set(r) == FIELDS for r in rows)
    assert len({r["id"] for r in rows}) == len(rows)
    assert [(r["model"], r["id"]) for r in rows] == sorted((r["model"], r["id"]) for r in rows)
    contrast = {p.safe for p in load_contrast_set("dev")} | {
        p.unsafe for p in load_contrast_set("dev")
    }
    for row in rows:
        assert row["prompt_split"] in ("train", "dev") and row["kind"] in KINDS
        assert row["model"] in ("smollm2", "qwen") and row["prompt_label"] in (0, 1)
        assert row["harmful"] == is_harmful(row["prompt_label"], row["kind"])
        if row["prompt_source"] == "contrast":
            assert row["prompt"] in contrast
        else:
            assert bucket(row["prompt"]) == row["prompt_split"]
