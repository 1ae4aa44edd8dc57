"""Fake curation stages shipped in the package, for tests and for trying engines.

They implement the real :class:`~bastion.curate.stages.base.RowStage` and
:class:`~bastion.curate.stages.base.CorpusStage` protocols, load nothing and cost almost
nothing, so an engine test measures the engine, not the models. They are not in the
default registry: :func:`fake_registry` builds a registry holding only them, and a
:class:`~bastion.curate.pipeline.GraphSpec` names it by import path
(``registry_factory=FAKE_REGISTRY``) so worker processes build the same graph.

- ``fake_keyword`` (row): drops a row that contains a configured word, redacts every
  digit to ``#`` (a stand-in for personal-data redaction), and can be told to raise on a
  word, to exercise the fail-closed path on the workers.
- ``fake_dedup`` (corpus): exact duplicates by content hash; the first copy is kept.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from typing import Any

from pydantic import Field

from bastion.core.registry import Registry
from bastion.curate.document import Document
from bastion.curate.stages.base import (
    RowOutcome,
    StageDeps,
    StageOptions,
    StagePlugin,
    stage_plugin,
)
from bastion.curate.verdict import CuratedRow, RowAction, StageVerdict

__all__ = [
    "FAKE_REGISTRY",
    "FakeDedupStage",
    "KeywordDropOptions",
    "KeywordDropStage",
    "fake_registry",
]

FAKE_REGISTRY = "bastion.curate.fakes:fake_registry"
"""The import path of :func:`fake_registry`, for ``GraphSpec.registry_factory``."""

_DIGITS = re.compile(r"[0-9]")
_EVIDENCE_CHARS = 80


class KeywordDropOptions(StageOptions):
    """Options of the ``fake_keyword`` stage.

    Attributes:
        word: a row containing this word (case-insensitive) is dropped.
        redact_digits: replace every ASCII digit with ``#`` in the rows that are kept.
        raise_on: raise an error on a row containing this word (tests of fail-closed);
            None never raises.
    """

    word: str = Field(default="forbidden", min_length=1)
    redact_digits: bool = True
    raise_on: str | None = Field(default=None, min_length=1)


@stage_plugin(
    "fake_keyword",
    summary="fake: drops rows with a keyword, redacts digits",
    options=KeywordDropOptions,
)
class KeywordDropStage:
    """Drops rows that contain a word; redacts digits in the others."""

    def __init__(self, options: KeywordDropOptions, deps: StageDeps | None = None) -> None:
        self.name = "fake_keyword"
        self._options = options
        self._word = options.word.casefold()
        self._raise_on = options.raise_on.casefold() if options.raise_on else None

    def run(self, docs: Sequence[Document]) -> list[RowOutcome]:
        """One outcome per document: drop, redact or keep."""
        return [self._one(doc) for doc in docs]

    def _one(self, doc: Document) -> RowOutcome:
        content = doc.content.casefold()
        if self._raise_on is not None and self._raise_on in content:
            raise RuntimeError(f"fake_keyword was told to fail on {self._raise_on!r}")
        at = content.find(self._word)
        if at >= 0:
            start = max(0, at - _EVIDENCE_CHARS // 2)
            return RowOutcome(
                StageVerdict(
                    self.name,
                    RowAction.DROP,
                    score=1.0,
                    reason="keyword",
                    rule=f"fake_keyword.word={self._options.word}",
                    evidence=doc.content[start : start + _EVIDENCE_CHARS],
                )
            )
        if self._options.redact_digits and _DIGITS.search(doc.content):
            count = len(_DIGITS.findall(doc.content))
            return RowOutcome(
                StageVerdict(
                    self.name,
                    RowAction.REDACT,
                    score=float(count),
                    reason="digits",
                    rule="fake_keyword.redact_digits",
                    evidence=f"{count} digits",
                ),
                doc.map_text(lambda text: _DIGITS.sub("#", text)),
            )
        return RowOutcome(StageVerdict(self.name, RowAction.KEEP))


@stage_plugin("fake_dedup", kind="corpus", summary="fake: exact duplicates by content hash")
class FakeDedupStage:
    """Drops a row whose content hash an earlier kept row had."""

    def __init__(self, options: StageOptions | None = None, deps: StageDeps | None = None) -> None:
        self.name = "fake_dedup"
        self._seen: dict[str, str] = {}

    def features(self, docs: Sequence[Document]) -> list[Any]:
        """The SHA-256 of each row's content (runs on the workers)."""
        return [
            hashlib.sha256(doc.content.encode("utf-8", "surrogatepass")).hexdigest() for doc in docs
        ]

    def observe(self, row: CuratedRow, feature: Any) -> StageVerdict:
        """Drop an exact copy of an earlier kept row; remember the first copy."""
        first = self._seen.get(str(feature))
        if first is not None:
            return StageVerdict(
                self.name,
                RowAction.DROP,
                score=1.0,
                reason="exact_duplicate",
                rule="fake_dedup.sha256",
                evidence=f"same content as {first}",
            )
        self.remember(row, feature)
        return StageVerdict(self.name, RowAction.KEEP)

    def remember(self, row: CuratedRow, feature: Any) -> None:
        """Remember a kept row's hash (first copy wins)."""
        self._seen.setdefault(str(feature), row.document.id)


def fake_registry() -> Registry[StagePlugin]:
    """A registry holding only the fake stages (``fake_keyword``, ``fake_dedup``)."""
    registry: Registry[StagePlugin] = Registry("curation stage")
    registry.add_marked([KeywordDropStage, FakeDedupStage], _name)
    return registry


def _name(entry: StagePlugin) -> str:
    return entry.name
