"""Engines: how the map step runs. Every engine yields the same items in the same order.

An engine turns the shards into one ordered stream per shard of :class:`MappedRow` (a row
after the row stages, with its corpus-stage features) and :class:`BadRow` (a row that
could not be read), in file order. The driver (:mod:`bastion.curate.run`) runs the corpus
stages and writes; it never sees which engine ran.

:class:`LocalEngine` runs in this process (``workers=1``) or on a pool of worker processes,
each with its own stage graph, with a bounded number of batches in flight so memory stays
constant whatever the corpus size. :mod:`bastion.curate.engine_ray` runs the same map
step on Ray Data.
"""

from __future__ import annotations

import multiprocessing
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from typing import Protocol

from bastion.batch.progress import NullProgress, ProgressSink
from bastion.core.errors import InputError
from bastion.curate.document import Document
from bastion.curate.inputs import BadRow, Shard, read_shard
from bastion.curate.pipeline import GraphSpec, MappedRow, StageGraph

__all__ = ["Engine", "Item", "LocalEngine", "ShardEnd", "ShardProgress", "StreamItem"]

Item = MappedRow | BadRow
ShardProgress = Callable[[Shard], ProgressSink]


@dataclass(frozen=True, slots=True)
class ShardEnd:
    """The end of one shard in an engine's stream.

    Attributes:
        shard: the shard that ended.
        error: why the file itself could not be read any further, or None.
    """

    shard: Shard
    error: str | None = None


StreamItem = tuple[Shard, Item | ShardEnd]


class Engine(Protocol):
    """Runs the map step over shards."""

    def stream(
        self, shards: Sequence[Shard], progress: ShardProgress | None = None
    ) -> Iterator[StreamItem]:
        """Every shard's rows after the map step, in file order, each shard closed by a
        :class:`ShardEnd` (one pass: workers and their models start once per run)."""
        ...

    def close(self) -> None:
        """Stop workers."""
        ...


class LocalEngine:
    """The map step in this process, or on ``workers`` processes.

    Args:
        spec: how to build the stage graph (in each worker).
        workers: processes; 1 runs in this process, on ``graph``.
        graph: the driver's own graph, used for the map step when ``workers`` is 1.
        batch_size: rows per task.
    """

    def __init__(
        self, spec: GraphSpec, *, workers: int, graph: StageGraph, batch_size: int
    ) -> None:
        self._graph = graph
        self._batch_size = batch_size
        self._inflight = max(2, 2 * workers)
        self._pool: ProcessPoolExecutor | None = None
        if workers > 1:
            # spawn, not fork: onnxruntime and thread pools do not survive a fork.
            self._pool = ProcessPoolExecutor(
                max_workers=workers,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_init_worker,
                initargs=(spec,),
            )

    def stream(
        self, shards: Sequence[Shard], progress: ShardProgress | None = None
    ) -> Iterator[StreamItem]:
        """Each shard's items, then its :class:`ShardEnd` (with the read error, if any)."""
        for shard in shards:
            sink = progress(shard) if progress else NullProgress()
            try:
                for item in self.items(shard, sink):
                    yield shard, item
            except InputError as exc:  # the file broke mid-way: end it, go on
                yield shard, ShardEnd(shard, str(exc))
                continue
            yield shard, ShardEnd(shard)

    def items(self, shard: Shard, progress: ProgressSink | None = None) -> Iterator[Item]:
        """The shard's mapped rows and bad rows, in file order."""
        pending: deque[tuple[list[BadRow], Future[list[MappedRow]] | list[MappedRow]]] = deque()
        for bad, docs in _batches(read_shard(shard, progress or NullProgress()), self._batch_size):
            pending.append((bad, self._submit(docs)))
            while len(pending) >= self._inflight:
                yield from _drain(pending.popleft())
        while pending:
            yield from _drain(pending.popleft())

    def close(self) -> None:
        """Shut the worker pool down."""
        if self._pool is not None:
            self._pool.shutdown(cancel_futures=True)
            self._pool = None

    def _submit(self, docs: list[Document]) -> Future[list[MappedRow]] | list[MappedRow]:
        if self._pool is None:
            return self._graph.map_batch(docs)
        return self._pool.submit(_map_in_worker, docs)


def _batches(
    rows: Iterator[Document | BadRow], size: int
) -> Iterator[tuple[list[BadRow], list[Document]]]:
    """Groups of ``size`` documents, each with the bad rows read before it (file order:
    a bad row is yielded before the documents that followed it in the file)."""
    bad: list[BadRow] = []
    docs: list[Document] = []
    for row in rows:
        if isinstance(row, BadRow):
            if docs:
                yield bad, docs
                bad, docs = [], []
            bad.append(row)
            continue
        docs.append(row)
        if len(docs) >= size:
            yield bad, docs
            bad, docs = [], []
    if bad or docs:
        yield bad, docs


def _drain(
    entry: tuple[list[BadRow], Future[list[MappedRow]] | list[MappedRow]],
) -> Iterator[Item]:
    bad, result = entry
    yield from bad
    yield from (result.result() if isinstance(result, Future) else result)


# One stage graph per worker process, built by the pool's initializer. This is the only
# process-wide state, and it lives in worker processes only.
_WORKER_GRAPH: list[StageGraph] = []


def _init_worker(spec: GraphSpec) -> None:
    _WORKER_GRAPH.append(StageGraph.build(spec))


def _map_in_worker(docs: Sequence[Document]) -> list[MappedRow]:
    return _WORKER_GRAPH[0].map_batch(docs)
