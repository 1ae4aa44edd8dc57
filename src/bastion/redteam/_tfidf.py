"""A numpy-only TF-IDF + logistic-regression scorer (the reference judge's run time).

It reproduces, for the settings the reference judge is trained with, what scikit-learn's
``TfidfVectorizer`` (``lowercase=True``, ``sublinear_tf=True``, ``norm="l2"``, the default
token pattern) and ``LogisticRegression.predict_proba`` compute, so the judge runs
without scikit-learn. Two analyzers: ``word`` (word n-grams) and ``char_wb`` (character
n-grams inside word boundaries, padded with a space). Each block is l2-normalised on its
own, then the blocks are joined, as a ``FeatureUnion`` does.

``tests/redteam/test_reference_judge.py`` checks the equivalence against scikit-learn.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt

from bastion.core.errors import ConfigError

__all__ = ["ANALYZERS", "TfidfBlock", "TfidfLogit", "analyze"]

ANALYZERS: Final = ("word", "char_wb")
TOKEN_PATTERN: Final = re.compile(r"(?u)\b\w\w+\b")
"""scikit-learn's default ``token_pattern``."""
_WHITE_SPACES: Final = re.compile(r"\s\s+")

Float = npt.NDArray[np.float64]


def _word_ngrams(text: str, low: int, high: int) -> list[str]:
    tokens = TOKEN_PATTERN.findall(text)
    grams = list(tokens) if low == 1 else []
    for n in range(max(low, 2), min(high, len(tokens)) + 1):
        grams.extend(" ".join(tokens[i : i + n]) for i in range(len(tokens) - n + 1))
    return grams


def _char_wb_ngrams(text: str, low: int, high: int) -> list[str]:
    grams: list[str] = []
    for word in _WHITE_SPACES.sub(" ", text).split():
        padded = f" {word} "
        for n in range(low, high + 1):
            if len(padded) <= n:  # a short word counts once, whole
                grams.append(padded)
                break
            grams.extend(padded[i : i + n] for i in range(len(padded) - n + 1))
    return grams


def analyze(text: str, analyzer: str, ngram_range: tuple[int, int]) -> list[str]:
    """The n-grams of ``text`` (lower-cased), as scikit-learn's analyzer lists them.

    Raises:
        ConfigError: an analyzer other than ``word`` or ``char_wb``.
    """
    low, high = ngram_range
    if analyzer == "word":
        return _word_ngrams(text.lower(), low, high)
    if analyzer == "char_wb":
        return _char_wb_ngrams(text.lower(), low, high)
    raise ConfigError(f"unknown analyzer {analyzer!r}; known: {', '.join(ANALYZERS)}")


@dataclass(frozen=True, slots=True)
class TfidfBlock:
    """One vectorizer: its analyzer, n-gram range, vocabulary and idf weights.

    Attributes:
        analyzer: ``word`` or ``char_wb``.
        ngram_range: smallest and largest n.
        vocabulary: term -> column.
        idf: idf weight per column.
        coef: the logistic regression's weight per column.
    """

    analyzer: str
    ngram_range: tuple[int, int]
    vocabulary: Mapping[str, int]
    idf: Float
    coef: Float

    def __post_init__(self) -> None:
        n = len(self.vocabulary)
        if self.idf.shape != (n,) or self.coef.shape != (n,):
            raise ConfigError(f"tf-idf block {self.analyzer}: vocabulary, idf, coef disagree")
        if self.analyzer not in ANALYZERS:
            raise ConfigError(f"unknown analyzer {self.analyzer!r}")

    def logit(self, text: str) -> float:
        """This block's share of the logit: ``coef . l2norm(tf-idf(text))``."""
        counts = Counter(analyze(text, self.analyzer, self.ngram_range))
        columns = [(self.vocabulary[t], c) for t, c in counts.items() if t in self.vocabulary]
        if not columns:
            return 0.0
        index = np.fromiter((i for i, _ in columns), dtype=np.int64, count=len(columns))
        tf = np.fromiter((1.0 + math.log(c) for _, c in columns), dtype=np.float64)
        weights = tf * self.idf[index]
        norm = float(np.sqrt(weights @ weights))
        return float(weights @ self.coef[index]) / norm if norm else 0.0


@dataclass(frozen=True, slots=True)
class TfidfLogit:
    """Blocks joined, then a logistic regression: ``p = sigmoid(sum(block logits) + b)``."""

    blocks: tuple[TfidfBlock, ...]
    intercept: float

    def probability(self, text: str) -> float:
        """The positive class's probability for ``text``, 0..1."""
        z = self.intercept + sum(block.logit(text) for block in self.blocks)
        return 1.0 / (1.0 + math.exp(-z)) if z >= 0 else math.exp(z) / (1.0 + math.exp(z))

    def probabilities(self, texts: Sequence[str]) -> Float:
        """:meth:`probability` of each text."""
        return np.fromiter((self.probability(t) for t in texts), dtype=np.float64)
