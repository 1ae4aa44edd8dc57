"""Training data of the multilingual prompt classifier v2: every source, one label scheme.

Sources (shared paths are relative to the shared data folder):

- ``prompts/multilingual.jsonl``: XSafety (en, de, fr, es) labelled item by item
  (:mod:`bastion.training.multilingual_labels`), MT-Bench-X first turns (de, fr, es, it)
  and XQuAD questions (de, es), benign.
- the project's multilingual set (``bastion.datasets:multilingual_v1.jsonl``, en fr de es
  it pt) and, when the file exists, its intent set (``intent_v1.jsonl``).
- English: ``prompts/harmful.jsonl`` (CategoricalHarmfulQA classes mapped to the taxonomy,
  its advice and campaigning categories left out), ``prompts/benign.jsonl`` (GSM8K capped
  at 25 %), ``prompts/benign_real.jsonl`` (Natural Questions capped at
  :data:`NQ_CAP`), ``prompts/roleplay_attacks.jsonl`` (SAP, ``jailbreak``),
  ``jailbreak/prompt_injection_hijacking.jsonl`` (``prompt_injection``),
  ``preferences/borderline_pref.jsonl`` prompts (CoCoNot look-alikes that should be
  answered, benign) and the contrast set's ``dev`` pairs plus its training-only pairs
  (never its ``test`` split).

Every example carries a ``group``: translations of one item (``parallel_id``, the XQuAD
question id, the multilingual set's ``item``, the intent set's ``group``) and both prompts
of a contrast pair share one, so no split separates them. English MT-Bench prompts join
their MT-Bench-X translations. Texts are de-duplicated; a text with conflicting labels is
dropped. No public benchmark test split is read.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Final

from bastion.core.errors import InputError
from bastion.training.multilingual_labels import (
    SAP_CLASSES,
    catqa_class,
    head_class,
    indiscriminate_weapon,
    xsafety_label,
)

__all__ = [
    "INTENT_FILE",
    "LANGUAGES",
    "NQ_CAP",
    "SHARED_FILES",
    "MlExample",
    "load_multilingual_examples",
    "multilingual_manifest",
]

LANGUAGES: Final = ("en", "fr", "de", "es", "it")
"""The languages every figure is reported for (Portuguese is trained on, reported apart)."""
NQ_CAP: Final = 1000
GSM8K_SHARE: Final = 0.25
CONTRAST_WEIGHT: Final = 3.0
PROJECT_WEIGHT: Final = 2.0
INTENT_FILE: Final = "intent_v1.jsonl"
SHARED_FILES: Final = {
    "multilingual": "prompts/multilingual.jsonl",
    "harmful": "prompts/harmful.jsonl",
    "benign": "prompts/benign.jsonl",
    "benign_real": "prompts/benign_real.jsonl",
    "roleplay": "prompts/roleplay_attacks.jsonl",
    "hijacking": "jailbreak/prompt_injection_hijacking.jsonl",
    "borderline": "preferences/borderline_pref.jsonl",
}
_HARMFUL_LABELS: Final = frozenset({"1", "harmful", "unsafe", "true"})


@dataclass(frozen=True, slots=True)
class MlExample:
    """One labelled prompt.

    Attributes:
        text: the prompt.
        label: 1 harmful, 0 benign.
        category: the head class of a harmful prompt (a taxonomy id), when known.
        source: its dataset (``xsafety``, ``mt_bench_x``, ``advbench``, ...).
        language: ISO 639-1 code.
        group: rows sharing a group are translations or pairs; splits keep them together.
        weight: sample weight in training.
    """

    text: str
    label: int
    category: str | None
    source: str
    language: str
    group: str
    weight: float = 1.0


def _digest(text: str) -> int:
    return int.from_bytes(hashlib.sha256(text.encode("utf-8", "replace")).digest()[:8], "big")


def _jsonl(path: Path) -> Iterator[dict[str, Any]]:
    try:
        with path.open(encoding="utf-8") as handle:
            for line in handle:
                if line.strip():
                    yield json.loads(line)
    except OSError as exc:
        raise InputError(f"{path}: cannot read training data ({exc})") from exc


_KEYWORDS: Final = (
    ("child_sexual_exploitation", r"\b(child|minor|underage|kid)s?\b.*\b(sex|porn|nude)"),
    ("suicide_self_harm", r"\b(suicide|self-harm|kill (?:myself|yourself)|cut myself)\b"),
    ("cybersecurity", r"\b(hack\w*|malware|ransomware|virus|exploit|ddos|keylogger|botnet)\b"),
    ("drugs", r"\b(drugs?|cocaine|heroin|meth\w*|fentanyl|narcotics?|lsd|opioids?)\b"),
    ("fraud", r"\b(scam\w*|fraud\w*|counterfeit|launder\w*|phishing|identity theft|forg\w*)\b"),
    ("weapons", r"\b(guns?|firearms?|rifles?|pistols?|ammunition|shotguns?)\b"),
    ("hate", r"\b(racis\w*|hate speech|inferior|slurs?|bigot\w*|antisemit\w*|white suprem\w*)\b"),
    ("extremism", r"\b(terror\w*|extremis\w*|jihad\w*|radicali[sz]\w*)\b"),
    ("privacy", r"\b(personal information|stalk\w*|dox\w*|spy on|track someone)\b"),
    ("violent_crimes", r"\b(kill\w*|murder\w*|assault\w*|poison\w*|kidnap\w*|tortur\w*)\b"),
    ("sexual_content", r"\b(porn\w*|sexually explicit|erotic)\b"),
)
_COMPILED: Final = tuple((name, re.compile(rx, re.IGNORECASE)) for name, rx in _KEYWORDS)


def keyword_class(text: str) -> str | None:
    """A class for an English harmful prompt whose source names none (first match)."""
    for name, pattern in _COMPILED:
        if pattern.search(text):
            return name
    return None


def _harmful(text: str, category: str | None) -> str | None:
    """Explosives and CBRN always name the hard limit; else the source's class, else a
    keyword guess."""
    if indiscriminate_weapon(text):
        return "indiscriminate_weapons"
    return category or keyword_class(text)


def _xsafety_and_friends(root: Path) -> list[MlExample]:
    rows = list(_jsonl(root / SHARED_FILES["multilingual"]))
    english = {
        r["parallel_id"]: r["text"]
        for r in rows
        if r["source"] == "xsafety" and r["language"] == "en"
    }
    out = []
    for r in rows:
        lang, source = r["language"], r["source"]
        if source == "xsafety":
            label, name = xsafety_label(r["parallel_id"], english.get(r["parallel_id"], r["text"]))
            if label is None:
                continue
            out.append(MlExample(r["text"], label, name, source, lang, r["parallel_id"]))
        else:  # MT-Bench-X and XQuAD: benign questions and tasks
            group = r.get("parallel_id") or f"xquad:{r['id']}"
            out.append(MlExample(r["text"], 0, None, source, lang, group))
    return out


def _english_harmful(root: Path) -> list[MlExample]:
    out = []
    for r in _jsonl(root / SHARED_FILES["harmful"]):
        category: str | None = None
        if r["source"] == "catqa_english":
            keep, category = catqa_class(r.get("category"), r.get("subcategory"))
            if not keep:
                continue
        text = r["text"]
        out.append(
            MlExample(text, 1, _harmful(text, category), r["source"], "en", f"h:{_digest(text)}")
        )
    for r in _jsonl(root / SHARED_FILES["roleplay"]):
        text = r["text"]
        name = _harmful(text, SAP_CLASSES.get(r.get("category") or "", "jailbreak"))
        out.append(MlExample(text, 1, name, "sap", "en", f"h:{_digest(text)}"))
    for r in _jsonl(root / SHARED_FILES["hijacking"]):
        text = r["text"]
        out.append(
            MlExample(text, 1, "prompt_injection", "tensor_trust", "en", f"h:{_digest(text)}")
        )
    return out


def _english_benign(root: Path) -> list[MlExample]:
    benign = list(_jsonl(root / SHARED_FILES["benign"]))
    mt_bench = [r for r in benign if r["source"] == "mt_bench"]
    mt_groups = {id(r): f"mt_bench:{81 + i}" for i, r in enumerate(mt_bench)}
    if len(mt_bench) != 80:  # the upstream order is what joins them to MT-Bench-X
        mt_groups = {}
    rows = [
        MlExample(
            r["text"], 0, None, r["source"], "en", mt_groups.get(id(r), f"b:{_digest(r['text'])}")
        )
        for r in benign
    ]
    maths = sorted((e for e in rows if e.source == "gsm8k_train"), key=lambda e: _digest(e.text))
    rest = [e for e in rows if e.source != "gsm8k_train"]
    out = rest + maths[: int(len(rest) * GSM8K_SHARE / (1 - GSM8K_SHARE))]
    real = [
        MlExample(r["text"], 0, None, r["source"], "en", f"b:{_digest(r['text'])}")
        for r in _jsonl(root / SHARED_FILES["benign_real"])
    ]
    nq = sorted((e for e in real if e.source == "nq_open_dev"), key=lambda e: _digest(e.text))
    out += [e for e in real if e.source != "nq_open_dev"] + nq[:NQ_CAP]
    out += [
        MlExample(r["prompt"], 0, None, "coconot", "en", f"b:{_digest(r['prompt'])}")
        for r in _jsonl(root / SHARED_FILES["borderline"])
    ]
    return out


def _contrast() -> list[MlExample]:
    from bastion.datasets import load_contrast_set
    from bastion.datasets.contrast_train import load_contrast_training_set

    out = []
    for pair in [*load_contrast_set("dev"), *load_contrast_training_set()]:
        group = f"contrast:{pair.id}"
        category = _harmful(pair.unsafe, head_class(pair.unsafe_category))
        out.append(MlExample(pair.safe, 0, None, "contrast", "en", group, CONTRAST_WEIGHT))
        out.append(MlExample(pair.unsafe, 1, category, "contrast", "en", group, CONTRAST_WEIGHT))
    return out


def _project_multilingual() -> list[MlExample]:
    from bastion.datasets.multilingual import load_multilingual_set

    rows = load_multilingual_set()
    english = {r.item: r.text for r in rows if r.lang == "en"}
    out = []
    for r in rows:
        name = None
        if r.label == 1:
            name = _harmful(english.get(r.item, r.text), head_class(r.category))
        group = f"bastion_ml:{r.item}"
        out.append(
            MlExample(r.text, r.label, name, "bastion_multilingual", r.lang, group, PROJECT_WEIGHT)
        )
    return out


def intent_file() -> Path:
    """Where the project's intent set lives (it may not exist yet)."""
    return Path(str(resources.files("bastion.datasets").joinpath(INTENT_FILE)))


def _intent_set(path: Path) -> list[MlExample]:
    if not path.is_file():
        return []
    out = []
    for r in _jsonl(path):
        text = str(r.get("text") or "")
        if not text.strip():
            continue
        label = 1 if str(r.get("label")).strip().lower() in _HARMFUL_LABELS else 0
        name = head_class(r.get("subcategory") or r.get("category")) if label else None
        group = f"bastion_intent:{r.get('group') or _digest(text)}"
        lang = str(r.get("language") or "en")
        out.append(MlExample(text, label, name, "bastion_intent", lang, group, PROJECT_WEIGHT))
    return out


def load_multilingual_examples(root: Path, *, intent_path: Path | None = None) -> list[MlExample]:
    """Every example of every source, de-duplicated by text (conflicting labels dropped).

    ``intent_path`` overrides where the intent set is read (default: the packaged file,
    skipped when absent).
    """
    examples = (
        _project_multilingual()
        + _intent_set(intent_path or intent_file())
        + _contrast()
        + _xsafety_and_friends(root)
        + _english_harmful(root)
        + _english_benign(root)
    )
    seen: dict[str, MlExample] = {}
    conflicts: set[str] = set()
    for example in examples:  # the first occurrence wins (project data first)
        text = example.text.strip()
        if not text:
            continue
        if text in seen and seen[text].label != example.label:
            conflicts.add(text)
        seen.setdefault(text, example)
    return [e for t, e in seen.items() if t not in conflicts]


def _file_entry(path: Path, name: str) -> dict[str, Any]:
    data = path.read_bytes()
    return {
        "path": name,
        "sha256": hashlib.sha256(data).hexdigest(),
        "records": sum(1 for line in data.splitlines() if line.strip()),
    }


def multilingual_manifest(
    root: Path, examples: list[MlExample], *, intent_path: Path | None = None
) -> dict[str, Any]:
    """SHA-256 and record counts of every file read, and the counts used per source."""
    from bastion.datasets import CONTRAST_SET_SHA256
    from bastion.datasets.contrast_train import CONTRAST_TRAIN_NAME, CONTRAST_TRAIN_SHA256
    from bastion.datasets.multilingual import MULTILINGUAL_SET_SHA256

    files = {name: _file_entry(root / rel, rel) for name, rel in SHARED_FILES.items()}
    files["bastion_multilingual"] = {
        "path": "bastion.datasets:multilingual_v1.jsonl",
        "sha256": MULTILINGUAL_SET_SHA256,
    }
    files["contrast_dev"] = {
        "path": "bastion.datasets:contrast_v1.jsonl#dev",
        "sha256": CONTRAST_SET_SHA256,
    }
    files["contrast_v2_train"] = {
        "path": f"bastion.datasets:{CONTRAST_TRAIN_NAME}",
        "sha256": CONTRAST_TRAIN_SHA256,
    }
    intent = intent_path or intent_file()
    if intent.is_file():
        files["bastion_intent"] = _file_entry(intent, f"bastion.datasets:{INTENT_FILE}")
    labels = resources.files("bastion.training").joinpath("multilingual_labels.py").read_bytes()
    files["xsafety_labels"] = {
        "path": "bastion.training.multilingual_labels",
        "sha256": hashlib.sha256(labels).hexdigest(),
    }
    used = Counter(f"{e.source}/{e.language}/{e.label}" for e in examples)
    return {
        "files": files,
        "used": dict(sorted(used.items())),
        "intent_set": "used" if intent.is_file() else "absent when trained",
        "skipped": [
            "toxicity/toxicity.jsonl (tweets and statements, not requests)",
            "CategoricalHarmfulQA Tailored Financial Advice and Political Campaigning "
            "(except Political misinformation)",
            "contrast set test split (report only)",
        ],
    }
