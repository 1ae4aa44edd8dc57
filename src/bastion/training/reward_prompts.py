"""Reward pairs across prompts (prompt sensitivity) and the out-of-distribution pyrit pairs.

- :func:`lookalike_examples` and :func:`harm_examples` (group ``prompt_sensitivity``)
  compare *one* reply across two prompts: a refusal fits the unsafe prompt better, a
  compliant opening ("Sure, here's how ...") fits the safe one better. The features that
  depend on the reply alone cancel in such a pair, so they train only the prompt-response
  interaction, the part that must tell "How do I kill a Python process?" from "How do I
  kill my neighbour?" — and they need no answer text, so every prompt gives some.
- :func:`pyrit_examples` (group ``pyrit_ood``): human-scored replies shipped in ``pyrit``,
  for one objective a reply scored as *not* achieving the harmful objective over one that
  did. Evaluation only, never trained on.
"""

from __future__ import annotations

import csv
import importlib.util
import io
from collections import defaultdict
from pathlib import Path

from bastion.datasets import load_contrast_set
from bastion.training.data import bucket
from bastion.training.reward_inputs import (
    SOURCES,
    TEMPLATE_REFUSALS,
    PreferenceExample,
    Refusals,
    read_jsonl,
    seed_of,
)

__all__ = ["harm_examples", "lookalike_examples", "pyrit_dir", "pyrit_examples"]


def _across(better: str, worse: str, reply: str, tag: tuple[str, str]) -> PreferenceExample:
    """``reply`` fits the prompt ``better`` more than ``worse``; ``tag`` is (source, split)."""
    return PreferenceExample(better, reply, reply, tag[0], tag[1], worse)


def lookalike_examples(refuse: Refusals) -> list[PreferenceExample]:
    """One reply, two prompts of a contrast pair: refusals fit the unsafe twin better,
    compliant openings ("Sure, here's how ...") fit the safe look-alike better.

    These pairs compare a reply across prompts, so they train only the prompt-response
    interaction (the features that depend on the reply alone cancel): the part that must
    tell "How do I kill a Python process?" from "How do I kill my neighbour?". They need no
    answer to the safe prompt, so every contrast pair gives some. Contrast ``test`` pairs
    are added as split ``contrast_test``: scored for the card, never trained on.
    """
    out = []
    for pair in load_contrast_set():
        split = bucket(pair.id, 70, 30) if pair.split == "dev" else "contrast_test"
        tag = ("contrast_lookalike", split)
        for j in range(TEMPLATE_REFUSALS):
            no = refuse(pair.unsafe, j, pair.unsafe_category)
            out.append(_across(pair.unsafe, pair.safe, no, tag))
        out.append(_across(pair.safe, pair.unsafe, refuse.compliance(pair.safe, 0), tag))
    return out


def harm_examples(root: Path, refuse: Refusals) -> list[PreferenceExample]:
    """The same across-prompt pairs for the shared prompts: each harmful prompt against a
    benign one of the same split (by hash; grade-school maths left out), one refusal and
    one compliant opening each."""
    benign: dict[str, list[str]] = defaultdict(list)
    for row in read_jsonl(root / SOURCES["benign"]):
        text = str(row["text"]).strip()
        if row.get("source") != "gsm8k_train" and text:
            benign[bucket(text)].append(text)
    out = []
    for row in read_jsonl(root / SOURCES["harmful"]):
        text = str(row["text"]).strip()
        split, seed = bucket(text), seed_of(text)
        if not benign[split]:
            continue
        other = benign[split][seed % len(benign[split])]
        tag = ("harm_vs_benign", split)
        out.append(_across(text, other, refuse(text, seed % 7), tag))
        out.append(_across(other, text, refuse.compliance(other, seed % 7), tag))
    return out


def pyrit_dir() -> Path | None:
    """``scorer_evals/objective`` inside the installed ``pyrit`` package, if any."""
    spec = importlib.util.find_spec("pyrit")
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = Path(next(iter(spec.submodule_search_locations)))
    folder = folder / "datasets" / "scorer_evals" / "objective"
    return folder if folder.is_dir() else None


def pyrit_examples(folder: Path | None) -> list[PreferenceExample]:
    """Same-objective pairs: a response scored 0 (objective not achieved) over one scored 1."""
    if folder is None:
        return []
    by_objective: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for path in sorted(folder.glob("*.csv")):
        text = path.read_text(encoding="utf-8")
        lines = "".join(line for line in io.StringIO(text) if not line.startswith("#"))
        for row in csv.DictReader(io.StringIO(lines)):
            score = str(row.get("human_score", "")).strip()
            objective = str(row.get("objective", "")).strip()
            if score in ("0", "1") and objective:
                by_objective[objective][score].append(str(row["assistant_response"]))
    out = []
    for objective, scored in sorted(by_objective.items()):
        for good in scored["0"]:
            for bad in scored["1"]:
                out.append(PreferenceExample(objective, good, bad, "pyrit", bucket(objective)))
    return out
