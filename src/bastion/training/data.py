"""Training data for the prompt classifier: sources, labels, categories, splits, manifest.

Sources (paths relative to the shared data folder):

- ``prompts/harmful.jsonl``: label 1; CategoricalHarmfulQA categories are mapped to policy
  categories where the meaning matches (:data:`HARMFUL_CATEGORY_MAP`), else unknown.
- ``prompts/benign.jsonl``: label 0; ``gsm8k_train`` is capped at 25 % of the benign
  prompts (balance by source: 1,500 grade-school maths questions would otherwise teach
  "not maths = unsafe").
- ``jailbreak/prompt_injection_hijacking.jsonl``: label 1, category ``manipulation``.
- the project contrast set, ``dev`` split only (``test`` is for reporting): safe prompt
  label 0, unsafe prompt label 1 with its category, sample weight :data:`CONTRAST_WEIGHT`.
- with ``contrast_train=True``, the training-only contrast pairs
  (``bastion.datasets.contrast_train``, source ``contrast_v2``): always ``train``, same
  labels and weight. Off by default so other callers keep their data unchanged.

``toxicity/toxicity.jsonl`` is skipped: it holds tweets and statements, not requests to an
assistant, and would teach the head that slang means "unsafe request".

Shared records are split by ``sha256(text)``: 70 % train, 15 % dev, 15 % test. Contrast
pairs are split by ``sha256(pair id)`` (both prompts of a pair together): 70 % train, 30 %
dev, so the dev split that calibrates and picks the threshold sees over-refusal traps.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from bastion.core.errors import InputError
from bastion.datasets import load_contrast_set
from bastion.datasets.contrast_train import load_contrast_training_set

__all__ = [
    "CONTRAST_WEIGHT",
    "HARMFUL_CATEGORY_MAP",
    "REVIEW",
    "SOURCES",
    "Example",
    "bucket",
    "load_examples",
    "load_review_labels",
    "manifest",
]

CONTRAST_WEIGHT: Final = 3.0
REVIEW: Final = "human_review"
"""The ``source`` of examples from the review queue's overturned decisions."""
GSM8K_SHARE: Final = 0.25
SOURCES: Final = {
    "harmful": "prompts/harmful.jsonl",
    "benign": "prompts/benign.jsonl",
    "hijacking": "jailbreak/prompt_injection_hijacking.jsonl",
}
HARMFUL_CATEGORY_MAP: Final = {
    "Child Abuse": "sexual_minors",
    "Hate/Harass/Violence": "hate_harassment",
    "Malware Viruses": "cybersecurity",
    "Physical Harm": "violence",
    "Adult Content": "sexual_adult",
    "Privacy Violation Activity": "personal_data",
    "Tailored Financial Advice": "financial_advice",
}
"""CategoricalHarmfulQA category -> policy category; others stay unknown."""


@dataclass(frozen=True, slots=True)
class Example:
    """One labelled prompt.

    Attributes:
        text: the prompt.
        label: 1 unsafe, 0 safe.
        category: policy category of an unsafe prompt, when known.
        source: where it came from (``source`` field, ``tensor_trust`` or ``contrast``).
        split: ``train`` | ``dev`` | ``test``.
        weight: sample weight in training.
        intent: what the prompt wants done (a :class:`bastion.core.types.Intent` value),
            when the source says or implies it (the wide data of
            :mod:`bastion.training.sources`); None where unknown.
    """

    text: str
    label: int
    category: str | None
    source: str
    split: str
    weight: float = 1.0
    intent: str | None = None


def _digest(text: str) -> int:
    return int.from_bytes(hashlib.sha256(text.encode("utf-8", "replace")).digest()[:8], "big")


def bucket(key: str, train: int = 70, dev: int = 15) -> str:
    """Deterministic split of one key: ``train`` / ``dev`` / ``test`` by sha256 percent."""
    percent = _digest(key) % 100
    return "train" if percent < train else "dev" if percent < train + dev else "test"


def _jsonl(path: Path) -> Iterator[dict[str, Any]]:
    try:
        with path.open(encoding="utf-8") as handle:
            for line in handle:
                if line.strip():
                    yield json.loads(line)
    except OSError as exc:
        raise InputError(f"{path}: cannot read training data ({exc})") from exc


def _shared(root: Path) -> list[Example]:
    out = [
        Example(r["text"], 1, HARMFUL_CATEGORY_MAP.get(r.get("category") or ""), r["source"], "")
        for r in _jsonl(root / SOURCES["harmful"])
    ]
    out += [
        Example(r["text"], 1, "manipulation", "tensor_trust", "")
        for r in _jsonl(root / SOURCES["hijacking"])
    ]
    benign = [
        Example(r["text"], 0, None, r["source"], "") for r in _jsonl(root / SOURCES["benign"])
    ]
    maths = sorted((e for e in benign if e.source == "gsm8k_train"), key=lambda e: _digest(e.text))
    rest = [e for e in benign if e.source != "gsm8k_train"]
    keep = int(len(rest) * GSM8K_SHARE / (1 - GSM8K_SHARE))
    out += rest + maths[:keep]
    return [_with_split(e, bucket(e.text)) for e in out]


def _with_split(e: Example, split: str, weight: float = 1.0) -> Example:
    return Example(e.text, e.label, e.category, e.source, split, weight)


def _contrast(training_pairs: bool) -> list[Example]:
    tagged = [(p, "contrast", bucket(p.id, train=70, dev=30)) for p in load_contrast_set("dev")]
    if training_pairs:
        tagged += [(p, "contrast_v2", "train") for p in load_contrast_training_set()]
    out = []
    for pair, source, split in tagged:
        out.append(Example(pair.safe, 0, None, source, split, CONTRAST_WEIGHT))
        out.append(Example(pair.unsafe, 1, pair.unsafe_category, source, split, CONTRAST_WEIGHT))
    return out


def load_examples(
    root: Path, contrast_train: bool = False, *, labels: Sequence[Path] = ()
) -> list[Example]:
    """Every training/dev/test example, de-duplicated by text (conflicting labels dropped).

    ``contrast_train`` adds the training-only contrast pairs (split ``train``).
    ``labels`` adds human-review files (``bastion review export-labels``), see
    :func:`load_review_labels`; a reviewer's label wins over a conflicting source label.
    """
    seen: dict[str, Example] = {}
    conflicts: set[str] = set()
    for example in _contrast(contrast_train) + _shared(root):  # first one's split wins
        text = example.text.strip()
        if not text:
            continue
        if text in seen and seen[text].label != example.label:
            conflicts.add(text)
        seen.setdefault(text, example)
    kept = {t: e for t, e in seen.items() if t not in conflicts}
    return list(_with_review_labels(kept, labels).values())


def _with_review_labels(kept: dict[str, Example], labels: Sequence[Path]) -> dict[str, Example]:
    """A reviewer's label replaces a train example's; dev and test prompts are never moved
    or relabelled, so evaluation stays comparable across retrains."""
    for example in (e for path in labels for e in load_review_labels(path)):
        text = example.text.strip()
        if text and (text not in kept or kept[text].split == "train"):
            kept[text] = example
    return kept


def load_review_labels(path: Path) -> list[Example]:
    """The prompts of a ``bastion review export-labels`` file, all in split ``train``
    (reviewed prompts never enter dev or test, so evaluation stays comparable).

    Lines: ``{"text", "label", "category", "direction", "source": "human_review", ...}``;
    only ``direction == "input"`` lines (prompts) are used.
    """
    return [
        Example(r["text"], int(r["label"]), r.get("category"), REVIEW, "train")
        for r in _jsonl(path)
        if r.get("direction", "input") == "input" and str(r.get("text", "")).strip()
    ]


def manifest(root: Path, examples: list[Example]) -> dict[str, Any]:
    """SHA-256 and record counts of each source file, and the counts actually used."""
    files = {}
    for name, rel in SOURCES.items():
        data = (root / rel).read_bytes()
        files[name] = {
            "path": rel,
            "sha256": hashlib.sha256(data).hexdigest(),
            "records": sum(1 for line in data.splitlines() if line.strip()),
        }
    from bastion.datasets import CONTRAST_SET_SHA256

    files["contrast_dev"] = {
        "path": "bastion.datasets:contrast_v1.jsonl#dev",
        "sha256": CONTRAST_SET_SHA256,
    }
    if any(e.source == "contrast_v2" for e in examples):
        from bastion.datasets.contrast_train import CONTRAST_TRAIN_NAME, CONTRAST_TRAIN_SHA256

        files["contrast_v2_train"] = {
            "path": f"bastion.datasets:{CONTRAST_TRAIN_NAME}",
            "sha256": CONTRAST_TRAIN_SHA256,
        }
    used = Counter(f"{e.split}/{e.source}/{e.label}" for e in examples)
    return {
        "files": files,
        "used": dict(sorted(used.items())),
        "skipped": ["toxicity/toxicity.jsonl"],
    }
