"""Side-by-side baselines scored in the same training run as a learned classifier.

Each baseline is a small object with a ``name`` and ``flags(texts) -> list[bool]``; the
training run scores every available one on the same dev split the learned model's
threshold was chosen on, and reports F1, false-positive rate (benign flagged) and latency
per text. A baseline whose package is not installed is reported as skipped, with why.
"""

from __future__ import annotations

import importlib.util
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

__all__ = [
    "Baseline",
    "BaselineScore",
    "KeywordRulesBaseline",
    "ProfanityBaseline",
    "available_baselines",
    "score_baseline",
    "score_flags",
]


class Baseline(Protocol):
    """A detector to compare against: flags texts as unsafe or not."""

    @property
    def name(self) -> str:
        """Short name for tables."""
        ...

    def flags(self, texts: Sequence[str]) -> list[bool]:
        """One flag per text."""
        ...


@dataclass(frozen=True, slots=True)
class BaselineScore:
    """How one detector did on a labelled split."""

    name: str
    f1: float
    precision: float
    recall: float
    false_positive_rate: float
    ms_per_text: float
    n: int
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready fields."""
        return asdict(self)


def score_flags(
    name: str, flags: npt.NDArray[np.bool_], y: npt.NDArray[np.int64], ms: float
) -> BaselineScore:
    """Precision, recall, F1 and false-positive rate of ``flags`` against ``y``."""
    tp = int((flags & (y == 1)).sum())
    fp = int((flags & (y == 0)).sum())
    fn = int((~flags & (y == 1)).sum())
    negatives = int((y == 0).sum())
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return BaselineScore(
        name=name,
        f1=round(f1, 4),
        precision=round(precision, 4),
        recall=round(recall, 4),
        false_positive_rate=round(fp / negatives, 4) if negatives else 0.0,
        ms_per_text=round(ms, 3),
        n=int(y.size),
    )


def score_baseline(
    baseline: Baseline, texts: Sequence[str], y: npt.NDArray[np.int64]
) -> BaselineScore:
    """Run ``baseline`` over ``texts`` and score it."""
    start = time.perf_counter()
    flags = np.asarray(baseline.flags(texts), dtype=bool)
    ms = (time.perf_counter() - start) * 1000 / max(1, len(texts))
    return score_flags(baseline.name, flags, y, ms)


class KeywordRulesBaseline:
    """bastion's tier-0 rules alone (a rules-only guard): flagged unless it allows.

    The default guard also runs the learned classifier (design note 0021), so the baseline
    builds its own one-layer configuration.
    """

    name = "keyword_rules"

    def flags(self, texts: Sequence[str]) -> list[bool]:
        """Flag every text the rules-only guard does not allow."""
        from bastion.core.types import Action
        from bastion.guard import Guard, GuardConfig, LayerConfig

        rules_only = GuardConfig(layers=[LayerConfig(type="rules")])
        with Guard.from_policy(config=rules_only) as guard:
            return [guard.check(t).action is not Action.ALLOW for t in texts]


class ProfanityBaseline:
    """``alt-profanity-check`` (linear SVM over word n-grams), flagged at p >= 0.5."""

    name = "alt_profanity_check"

    def flags(self, texts: Sequence[str]) -> list[bool]:
        """Flag texts the profanity model scores at 0.5 or more."""
        from profanity_check import predict_prob

        return [bool(p >= 0.5) for p in predict_prob(list(texts))]


def available_baselines() -> tuple[list[Baseline], dict[str, str]]:
    """The baselines that can run here, and why the others cannot."""
    found: list[Baseline] = [KeywordRulesBaseline()]
    skipped: dict[str, str] = {}
    if importlib.util.find_spec("profanity_check") is not None:
        found.append(ProfanityBaseline())
    else:
        skipped["alt_profanity_check"] = "not installed: pip install 'bastion[baselines]'"
    return found, skipped
