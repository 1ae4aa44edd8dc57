"""The curation driver: shards in, kept / removed / error rows and a report out.

For each shard, in order: the engine runs the map step (row stages, corpus-stage
features); the driver runs the corpus stages in corpus order, writes every row to exactly
one of kept, removed or errors, and commits the shard (see :mod:`bastion.curate.outputs`).
A resumed run (``resume=True``) skips committed shards, feeding their kept rows back to the
corpus stages so duplicates across shards are still found, and merges their summaries.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

from bastion.batch.progress import NullProgress
from bastion.batch.read_jsonl import open_jsonl
from bastion.core.errors import InputError
from bastion.curate.config import CurateConfig
from bastion.curate.document import Document, parse_document
from bastion.curate.engines import Engine, LocalEngine, ShardEnd, ShardProgress, StreamItem
from bastion.curate.inputs import BadRow, Shard, list_shards
from bastion.curate.outputs import ShardWriter, state_path
from bastion.curate.pipeline import GraphSpec, StageGraph
from bastion.curate.summary import CurationSummary, SummaryBuilder
from bastion.curate.verdict import CuratedRow
from bastion.policy.model import Policy

__all__ = ["CurateRequest", "CurateResult", "curate"]

EngineName = Literal["local", "ray"]


@dataclass(frozen=True, slots=True)
class CurateRequest:
    """One curation run.

    Attributes:
        source: a corpus file or a folder of shards.
        out: the output folder.
        config: the curation config.
        policy: the safety policy.
        context: the curation context (None: the config's).
        engine: ``local`` or ``ray``.
        workers: worker processes (local) or actors (Ray).
        resume: skip shards a previous run into ``out`` completed.
        ray_address: a Ray cluster to join (None starts a local Ray).
        base_dir: folder relative stage paths are read from (the config's folder).
        registry_factory: ``module:function`` of a non-default stage registry (tests).
        parquet: also write the kept rows as Parquet (``OUT/parquet/``, needs pyarrow).
    """

    source: Path
    out: Path
    config: CurateConfig
    policy: Policy
    context: str | None = None
    engine: EngineName = "local"
    workers: int = 1
    resume: bool = False
    ray_address: str | None = None
    base_dir: Path = field(default_factory=Path.cwd)
    registry_factory: str | None = None
    parquet: bool = False


@dataclass(frozen=True, slots=True)
class CurateResult:
    """What a run did: the merged summary, and where its outputs are."""

    summary: CurationSummary
    out: Path
    seconds: float
    skipped_shards: int


RowCallback = Callable[[CuratedRow], None]


def curate(
    request: CurateRequest,
    *,
    progress: ShardProgress | None = None,
    on_row: RowCallback | None = None,
) -> CurateResult:
    """Run the curation and write outputs and the report.

    Raises:
        InputError: the source does not exist or holds no corpus files.
        ConfigError: a stage cannot be built from the config.
    """
    from bastion.curate.export import write_dataset_card, write_parquet
    from bastion.curate.report import write_report

    started = time.perf_counter()
    shards = list_shards(request.source)
    context = request.context or request.config.context
    spec = GraphSpec(
        request.config,
        request.policy,
        context,
        request.base_dir,
        registry_factory=request.registry_factory,
    )
    request.out.mkdir(parents=True, exist_ok=True)
    in_process = request.workers == 1 and request.engine == "local"
    driver = StageGraph.build(spec if in_process else replace(spec, only=frozenset({"corpus"})))
    engine = _engine(request, spec, driver)
    done, pending = _split_done(request, shards)
    summaries = [summary for _shard, summary in done]
    try:
        for shard, _summary in done:
            driver.remember(list(_kept_documents(request.out, shard)))
        summaries += _run_shards(pending, engine, driver, request, (progress, on_row))
    finally:
        engine.close()
        driver.close()
    summary = _merge(summaries)
    meta = _meta(request, context, shards, time.perf_counter() - started)
    meta.update(_certificate(spec))
    if request.parquet:
        write_parquet(request.out)
    write_dataset_card(request.out, summary, meta)
    write_report(summary, request.out, title=f"Curation of {request.source.name}", meta=meta)
    return CurateResult(summary, request.out, time.perf_counter() - started, len(done))


def _engine(request: CurateRequest, spec: GraphSpec, driver: StageGraph) -> Engine:
    if request.engine == "ray":
        from bastion.curate.engine_ray import RayEngine

        return RayEngine(
            spec,
            workers=request.workers,
            address=request.ray_address,
            batch_size=request.config.batch_size,
        )
    return LocalEngine(
        spec, workers=request.workers, graph=driver, batch_size=request.config.batch_size
    )


def _run_shards(
    shards: list[Shard],
    engine: Engine,
    driver: StageGraph,
    request: CurateRequest,
    callbacks: tuple[ShardProgress | None, RowCallback | None],
) -> list[CurationSummary]:
    """Consume the engine's one stream over ``shards``: reduce, write, commit per shard."""
    progress, on_row = callbacks
    summaries: list[CurationSummary] = []
    stream = engine.stream(shards, progress)
    for shard in shards:
        with ShardWriter(request.out, shard) as writer:
            builder = SummaryBuilder()
            for _shard, item in _until_end(stream, shard):
                if isinstance(item, ShardEnd):
                    if item.error is not None:  # the file itself broke: say so, go on
                        writer.bad(BadRow(shard.name, 0, item.error, ""))
                        builder.add_error(shard.name, 0, item.error, "")
                    break
                if isinstance(item, BadRow):
                    writer.bad(item)
                    builder.add_error(item.shard, item.line, item.error, item.excerpt)
                    continue
                row = driver.reduce(item)
                writer.row(row)
                builder.add(row)
                if on_row is not None:
                    on_row(row)
            summary = builder.build()
            writer.commit(summary.model_dump(mode="json"))
        summaries.append(summary)
    return summaries


def _until_end(stream: Iterator[StreamItem], shard: Shard) -> Iterator[StreamItem]:
    for got, item in stream:
        if got != shard:
            raise RuntimeError(f"engine sent {got.name} while {shard.name} was open")
        yield got, item
        if isinstance(item, ShardEnd):
            return


def _split_done(
    request: CurateRequest, shards: list[Shard]
) -> tuple[list[tuple[Shard, CurationSummary]], list[Shard]]:
    """The completed prefix of ``shards`` (resume) and the rest. Only a prefix counts:
    dedup keeps the first copy in corpus order, so a shard after an unfinished one is
    redone even if it has a state file."""
    done: list[tuple[Shard, CurationSummary]] = []
    for index, shard in enumerate(shards):
        summary = _completed(request, shard)
        if summary is None:
            return done, shards[index:]
        done.append((shard, summary))
    return done, []


def _completed(request: CurateRequest, shard: Shard) -> CurationSummary | None:
    path = state_path(request.out, shard)
    if not request.resume or not path.is_file():
        return None
    try:
        return CurationSummary.model_validate(json.loads(path.read_text("utf-8")))
    except ValueError:
        return None  # a damaged state file: redo the shard


def _kept_documents(out: Path, shard: Shard) -> Iterator[Document]:
    from contextlib import ExitStack

    path = out / "kept" / shard.output_name
    if not path.is_file():
        return
    with ExitStack() as stack:
        for row in open_jsonl(path, NullProgress(), stack).rows:
            if row.data is None:
                continue
            fields = {k: v for k, v in row.data.items() if k != "curation"}
            # The input line, from the kept row's id ("<shard>:<line>"): dedup names it.
            line = str(row.data.get("curation", {}).get("id", "")).rpartition(":")[2]
            try:
                yield parse_document(fields, shard=shard.name, line=int(line or 0))
            except (InputError, ValueError):
                continue


def _merge(summaries: list[CurationSummary]) -> CurationSummary:
    if not summaries:
        return SummaryBuilder().build()
    total = summaries[0]
    for other in summaries[1:]:
        total = total.merge(other)
    return total


def _certificate(spec: GraphSpec) -> dict[str, Any]:
    """The evaluation sets the corpus was decontaminated against, by sha256, so the report
    certifies exactly which files (and which versions of them) the kept rows avoid."""
    item = next((s for s in spec.config.enabled_stages() if s.name == "decontamination"), None)
    if item is None:
        return {}
    from bastion.curate.stages.decontamination import (
        DecontaminationOptions,
        DecontaminationStage,
    )

    options = DecontaminationOptions.model_validate(item.options)
    return {"decontaminated_against": DecontaminationStage(options, spec.deps()).fingerprint()}


def _meta(
    request: CurateRequest, context: str, shards: list[Shard], seconds: float
) -> dict[str, Any]:
    return {
        "source": str(request.source),
        "shards": len(shards),
        "context": context,
        "policy": request.policy.ref,
        "engine": request.engine,
        "workers": request.workers,
        "stages": [s.name for s in request.config.enabled_stages()],
        "seconds": round(seconds, 2),
    }
