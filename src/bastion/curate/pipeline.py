"""The stage graph: row stages on the workers, corpus stages in the driver.

:meth:`StageGraph.map_batch` runs every row stage in configured order over a batch (a row
that a stage drops skips the stages after it) and computes the corpus stages' features;
it is what an engine ships to its workers. :meth:`StageGraph.reduce` runs the corpus
stages (duplicates) on one mapped row, in corpus order, in the driver. Whatever engine
and however many workers ran the map step, the reduce step sees the same rows in the same
order, so the output is the same row for row.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from pydantic import ValidationError

from bastion.core.errors import ConfigError
from bastion.core.registry import Registry
from bastion.curate.config import CurateConfig
from bastion.curate.document import Document
from bastion.curate.stages.base import (
    CorpusStage,
    RowOutcome,
    RowStage,
    StageDeps,
    StagePlugin,
)
from bastion.curate.verdict import CuratedRow, RowAction, StageVerdict
from bastion.policy.model import Policy
from bastion.records.model import describe_validation

__all__ = ["GraphSpec", "MappedRow", "StageGraph"]


@dataclass(frozen=True, slots=True)
class MappedRow:
    """A row after the map step.

    Attributes:
        row: the (possibly redacted) row and the row stages' verdicts.
        features: one feature per corpus stage, or None when the row was dropped.
    """

    row: CuratedRow
    features: tuple[Any, ...] | None


@dataclass(frozen=True, slots=True)
class GraphSpec:
    """Everything needed to build a stage graph in another process (picklable).

    Attributes:
        config: the curation config.
        policy: the loaded policy.
        context: the curation context's name.
        base_dir: folder relative stage paths are read from.
        only: build only these stage kinds (``row``, ``corpus``), or both.
        registry_factory: ``"module:function"`` returning the stage registry to build
            from, for graphs built in other processes (workers import it by name); None
            uses the default registry (built-in stages and entry points).
    """

    config: CurateConfig
    policy: Policy
    context: str
    base_dir: Path
    only: frozenset[str] = frozenset({"row", "corpus"})
    registry_factory: str | None = None

    def deps(self) -> StageDeps:
        """The shared stage dependencies."""
        return StageDeps(self.policy, self.config.curation_context(self.context), self.base_dir)


class StageGraph:
    """The configured stages, built once (per worker) and run over batches."""

    def __init__(self, row: Sequence[RowStage], corpus: Sequence[CorpusStage]) -> None:
        self.row_stages = tuple(row)
        self.corpus_stages = tuple(corpus)

    @classmethod
    def build(cls, spec: GraphSpec, registry: Registry[StagePlugin] | None = None) -> StageGraph:
        """Build the enabled stages of ``spec.config`` (of the kinds in ``spec.only``).

        The stages come from ``registry``, else from ``spec.registry_factory``, else from
        the default registry.

        Raises:
            ConfigError: unknown stage, invalid options, a stage that cannot load, or a
                registry factory that cannot be imported.
        """
        plugins = registry if registry is not None else _registry(spec.registry_factory)
        deps = spec.deps()
        row: list[RowStage] = []
        corpus: list[CorpusStage] = []
        for item in spec.config.enabled_stages():
            entry = plugins.get(item.name)
            if entry.kind not in spec.only:
                continue
            try:
                options = entry.options.model_validate(item.options)
            except ValidationError as exc:
                raise ConfigError(f"stage {item.name!r}: {describe_validation(exc)}") from None
            stage = entry.build(options, deps)
            if entry.kind == "corpus":
                corpus.append(cast("CorpusStage", stage))
            else:
                row.append(cast("RowStage", stage))
        return cls(row, corpus)

    @property
    def names(self) -> tuple[str, ...]:
        """The stages' names, row stages first."""
        return (*(s.name for s in self.row_stages), *(s.name for s in self.corpus_stages))

    def map_batch(self, docs: Sequence[Document]) -> list[MappedRow]:
        """Run the row stages and the corpus stages' features over ``docs``."""
        rows = [CuratedRow(doc, ()) for doc in docs]
        for stage in self.row_stages:
            live = [i for i, row in enumerate(rows) if row.kept]
            if not live:
                break
            outcomes = _run_safely(stage, [rows[i].document for i in live])
            for index, outcome in zip(live, outcomes, strict=True):
                doc = outcome.document or rows[index].document
                rows[index] = CuratedRow(doc, (*rows[index].verdicts, outcome.verdict))
        return self._with_features(rows)

    def reduce(self, mapped: MappedRow) -> CuratedRow:
        """Run the corpus stages on one mapped row (call in corpus order)."""
        row = mapped.row
        if mapped.features is None:
            return row
        for stage, feature in zip(self.corpus_stages, mapped.features, strict=True):
            row = row.with_verdict(stage.observe(row, feature))
            if not row.kept:
                break
        return row

    def remember(self, docs: Sequence[Document]) -> None:
        """Feed rows kept by an earlier run to the corpus stages (resume)."""
        for mapped in self._with_features([CuratedRow(doc, ()) for doc in docs]):
            for stage, feature in zip(self.corpus_stages, mapped.features or (), strict=True):
                stage.remember(mapped.row, feature)

    def close(self) -> None:
        """Close stages that hold resources (``close()`` when they have one)."""
        for stage in (*self.row_stages, *self.corpus_stages):
            closer: Callable[[], None] | None = getattr(stage, "close", None)
            if closer is not None:
                closer()

    def _with_features(self, rows: list[CuratedRow]) -> list[MappedRow]:
        live = [i for i, row in enumerate(rows) if row.kept]
        per_stage = [
            stage.features([rows[i].document for i in live]) for stage in self.corpus_stages
        ]
        features: list[tuple[Any, ...] | None] = [None] * len(rows)
        for position, index in enumerate(live):
            features[index] = tuple(column[position] for column in per_stage)
        return [MappedRow(row, feat) for row, feat in zip(rows, features, strict=True)]


def _registry(factory: str | None) -> Registry[StagePlugin]:
    """The registry ``factory`` (``"module:function"``) returns, or the default one."""
    if factory is None:
        from bastion.curate.registry import build_stage_registry

        return build_stage_registry()
    module_name, _, attr = factory.partition(":")
    try:
        build = getattr(importlib.import_module(module_name), attr)
    except (ImportError, AttributeError, ValueError) as exc:
        raise ConfigError(f"registry factory {factory!r} cannot be imported: {exc}") from None
    made = build()
    if not isinstance(made, Registry):
        raise ConfigError(f"registry factory {factory!r} did not return a Registry")
    return cast("Registry[StagePlugin]", made)


def _run_safely(stage: RowStage, docs: Sequence[Document]) -> list[RowOutcome]:
    """The stage's outcomes. When the batch fails, each row is retried alone, and a row
    that still fails is dropped with the error as evidence: curation fails closed like the
    guard (a row no stage could judge is not kept), and one bad row costs only itself."""
    try:
        return _checked(stage, docs)
    except Exception:  # noqa: BLE001 - isolate the failing rows below
        if len(docs) == 1:
            return [_failed(stage, sys.exc_info()[1])]
    return [_one(stage, doc) for doc in docs]


def _one(stage: RowStage, doc: Document) -> RowOutcome:
    try:
        return _checked(stage, [doc])[0]
    except Exception as exc:  # noqa: BLE001 - any stage failure fails closed, per row
        return _failed(stage, exc)


def _checked(stage: RowStage, docs: Sequence[Document]) -> list[RowOutcome]:
    outcomes = stage.run(docs)
    if len(outcomes) != len(docs):
        raise RuntimeError(f"returned {len(outcomes)} outcomes for {len(docs)} rows")
    return outcomes


def _failed(stage: RowStage, exc: BaseException | None) -> RowOutcome:
    message = f"stage failed: {type(exc).__name__}: {exc}"[:500]
    return RowOutcome(
        StageVerdict(
            stage.name, RowAction.DROP, reason="stage_error", rule="fail_closed", evidence=message
        )
    )
