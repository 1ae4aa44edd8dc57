"""The stage plugin kind: one small interface for each of the two kinds of stage.

A :class:`RowStage` judges a batch of rows, each on its own, so an engine may run it on
any number of workers in any process. A :class:`CorpusStage` needs to see the corpus in
order (duplicates: the first copy is kept): its :meth:`~CorpusStage.features` step runs
with the row stages on the workers, and :meth:`~CorpusStage.observe` runs in the driver,
in corpus order, so every engine gives the same output row for row.

Every stage is registered with :func:`stage_plugin` and built from its options model
(pydantic, ``extra="forbid"``) and the shared :class:`StageDeps`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict

from bastion.core.registry import plugin
from bastion.curate.document import Document
from bastion.curate.verdict import CuratedRow, StageVerdict

if TYPE_CHECKING:
    from bastion.curate.contexts import CurationContext
    from bastion.policy.model import Policy

__all__ = [
    "CorpusStage",
    "RowOutcome",
    "RowStage",
    "Stage",
    "StageDeps",
    "StageOptions",
    "StagePlugin",
    "stage_plugin",
]


class StageOptions(BaseModel):
    """Base of every stage's options: frozen, unknown keys refused."""

    model_config = ConfigDict(extra="forbid", frozen=True)


@dataclass(frozen=True, slots=True)
class RowOutcome:
    """A row stage's answer for one row.

    Attributes:
        verdict: the stage's verdict.
        document: the row as it goes on (a redacted copy), or None when unchanged.
    """

    verdict: StageVerdict
    document: Document | None = None


@dataclass(frozen=True, slots=True)
class StageDeps:
    """What stages share, built once per run (per worker) and passed down.

    Attributes:
        policy: the safety policy the guard enforces.
        context: the curation context (which decides keep / drop / flag from actions).
        base_dir: folder that relative paths in stage options are read from.
    """

    policy: Policy
    context: CurationContext
    base_dir: Path


@runtime_checkable
class RowStage(Protocol):
    """Judges rows one by one (batched for speed)."""

    name: str

    def run(self, docs: Sequence[Document]) -> list[RowOutcome]:
        """One outcome per document, in order. Must not raise on odd text."""
        ...


@runtime_checkable
class CorpusStage(Protocol):
    """Judges rows in corpus order, with state across rows (duplicates)."""

    name: str

    def features(self, docs: Sequence[Document]) -> list[Any]:
        """Per-row work that needs no state (signatures); runs on the workers.

        Results must be picklable: they travel between processes.
        """
        ...

    def observe(self, row: CuratedRow, feature: Any) -> StageVerdict:
        """The verdict for ``row``, in corpus order; remembers the row if it is kept."""
        ...

    def remember(self, row: CuratedRow, feature: Any) -> None:
        """Add an already-kept row to the state without a verdict (resuming a run)."""
        ...


Stage = RowStage | CorpusStage


@dataclass(frozen=True, slots=True)
class StagePlugin:
    """Registry entry for one stage.

    Attributes:
        name: the name used in configuration and in verdicts.
        kind: ``row`` or ``corpus``.
        summary: one line for ``bastion curate stages``.
        options: the options model (defaults must be valid: ``options()`` works).
        build: makes the stage from its options and the shared dependencies.
        cheap: True for stages with no learned model (they skip model loading).
    """

    name: str
    kind: Literal["row", "corpus"]
    summary: str
    options: type[StageOptions]
    build: Callable[[Any, StageDeps], Stage]
    cheap: bool = True


def stage_plugin(
    name: str,
    *,
    kind: Literal["row", "corpus"] = "row",
    summary: str,
    options: type[StageOptions] = StageOptions,
    cheap: bool = True,
) -> Callable[[type[Any]], type[Any]]:
    """Mark a stage class; the class is built as ``cls(options, deps)``."""

    def mark(cls: type[Any]) -> type[Any]:
        entry = StagePlugin(name, kind, summary, options, cls, cheap)
        return plugin(entry)(cls)

    return mark
