"""The map step on Ray Data: the same items, in the same order, as the local engine.

One Dataset of three operators runs the shards (one per :meth:`RayEngine.items` call, or
all of them in :meth:`RayEngine.stream`):

1. a read task per shard, one at a time, runs ``read_shard`` inside Ray (a bad row stays
   a :class:`BadRow`) and emits Arrow tables of ``index`` (the shard), ``seq`` (the row),
   ``kind`` (document, bad row, end), ``payload`` (the pickled :class:`Document` or
   :class:`BadRow`: dataclasses, not Arrow types) and ``nbytes`` (input bytes read, for
   progress). Each shard ends with an ``end`` row that carries the file's own read error,
   if any, so the driver raises it in file order;
2. ``map_batches`` on a pool of ``workers`` actors, each with one stage graph built once
   from the :class:`GraphSpec`, turns document payloads into pickled :class:`MappedRow`;
3. the driver iterates blocks (``iter_batches``: streaming, never a whole shard) with
   ``preserve_order``, checks that ``(index, seq)`` counts up, unpickles and yields.

The read is ``from_items`` + ``map_batches`` (Public API), not a custom ``Datasource``
(Developer API whose signatures change between releases). It asks for no CPU: the actors
may hold all of them. It prefers the driver's node, so a path on the driver's disk works
on a cluster. Blocks are kept small (``block_bytes``, on this engine's own copy of the
``DataContext``): Ray Data otherwise gathers up to 128 MiB per block, and a small shard
would reach one actor only. Why and what it costs: ``docs/design/0062-curation-on-ray-data.md``.
"""

from __future__ import annotations

import logging
import pickle
import warnings
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any, cast

from bastion.batch.progress import NullProgress, ProgressSink
from bastion.core.errors import InputError
from bastion.curate.engines import Item, ShardEnd, ShardProgress
from bastion.curate.inputs import BadRow, Shard, read_shard
from bastion.curate.pipeline import GraphSpec, MappedRow, StageGraph

if TYPE_CHECKING:
    from ray.data import DataContext, Dataset

__all__ = ["RayEngine"]

# Row kinds in the ``kind`` column.
_DOC, _BAD, _END, _FATAL = 0, 1, 2, 3
_BLOCK_BYTES = 1024 * 1024
_COLUMNS = ("index", "seq", "kind", "payload", "nbytes")
_QUIET_LOGGERS = ("ray.data",)
_NODE_LABEL = "ray.io/node-id"


class RayEngine:
    """The map step on a Ray Data actor pool.

    Args:
        spec: how each actor builds its stage graph.
        workers: actors (each builds one stage graph and takes one CPU).
        address: a Ray cluster to join; None starts a local Ray of ``max(2, workers)``
            CPUs (or uses the Ray this process already joined).
        batch_size: rows per ``map_batches`` call.
        block_bytes: Ray Data's target block size for this engine's datasets; smaller
            blocks spread a small shard over more actors.
    """

    def __init__(
        self,
        spec: GraphSpec,
        *,
        workers: int,
        address: str | None = None,
        batch_size: int = 256,
        block_bytes: int = _BLOCK_BYTES,
    ) -> None:
        import ray
        import ray.data  # configures Ray Data's loggers: quieten them after

        self._spec = spec
        self._workers = max(1, workers)
        self._batch_size = batch_size
        self._levels = {name: logging.getLogger(name).level for name in _QUIET_LOGGERS}
        for name in _QUIET_LOGGERS:
            logging.getLogger(name).setLevel(logging.ERROR)
        self._started = False
        if not ray.is_initialized():
            _init_ray(address, self._workers)
            self._started = True
        self._context = _quiet_context(block_bytes)
        self._node = ray.get_runtime_context().get_node_id()

    def items(self, shard: Shard, progress: ProgressSink | None = None) -> Iterator[Item]:
        """The shard's mapped rows and bad rows, in file order (one Dataset per call).

        Raises:
            InputError: the file itself cannot be opened or read any further (after the
                rows read before the failure).
        """
        sink = progress or NullProgress()
        for _shard, item in self.stream([shard], lambda _shard: sink):
            if isinstance(item, ShardEnd):
                if item.error is not None:
                    raise InputError(item.error)
                continue
            yield item

    def stream(
        self, shards: Sequence[Shard], progress: ShardProgress | None = None
    ) -> Iterator[tuple[Shard, Item | ShardEnd]]:
        """Every shard's items in order, each shard closed by a :class:`ShardEnd`, from
        one Dataset: the actors (and the stages' models) start once for all the shards.

        ``progress(shard)`` is asked for a shard's sink when its first row comes back.
        """
        if not shards:
            return
        batches = iter(
            self._dataset(shards).iter_batches(
                batch_size=None, batch_format="pyarrow", prefetch_batches=1
            )
        )
        order = _Order(shards, progress)
        try:
            for table in batches:
                columns = cast("Any", table).to_pydict()
                for index, seq, kind, payload, nbytes in zip(
                    *(columns[name] for name in _COLUMNS), strict=True
                ):
                    shard, sink = order.check(index, seq)
                    item = _decode(kind, payload, shard)
                    if nbytes:
                        sink.advance(nbytes)
                    if isinstance(item, ShardEnd):
                        order.ended()
                    yield shard, item
            order.finished()
        finally:
            closer = getattr(batches, "close", None)
            if closer is not None:
                closer()

    def close(self) -> None:
        """Shut down the Ray this engine started (a cluster is only disconnected)."""
        import ray

        if self._started and ray.is_initialized():
            ray.shutdown()
        self._started = False
        for name, level in self._levels.items():
            logging.getLogger(name).setLevel(level)

    def _dataset(self, shards: Sequence[Shard]) -> Dataset:
        import ray.data
        from ray.data import DataContext

        with DataContext.current(self._context):
            source = ray.data.from_items(
                [{"index": i, "shard": pickle.dumps(s)} for i, s in enumerate(shards)],
                override_num_blocks=len(shards),
            )
            read = source.map_batches(
                cast("Any", _read_rows),
                fn_kwargs={"batch_size": self._batch_size},
                batch_size=None,
                batch_format="pyarrow",
                compute=ray.data.TaskPoolStrategy(size=1),  # shards one after another
                num_cpus=0,
                # the driver's node if it can (a local path is there), else any node
                label_selector={_NODE_LABEL: self._node},
                fallback_strategy=[{"label_selector": {}}],
            )
            return read.map_batches(
                _MapStep,
                fn_constructor_args=(self._spec,),
                batch_size=self._batch_size,
                batch_format="pyarrow",
                compute=ray.data.ActorPoolStrategy(
                    min_size=1, max_size=self._workers, initial_size=self._workers
                ),
            )


class _Order:
    """Checks that rows come back in order, and hands out each shard's progress sink."""

    def __init__(self, shards: Sequence[Shard], progress: ShardProgress | None) -> None:
        self._shards = shards
        self._progress = progress
        self._index = -1
        self._next = -1  # -1: between shards, the next row starts the next one
        self._sink: ProgressSink = NullProgress()

    def check(self, index: int, seq: int) -> tuple[Shard, ProgressSink]:
        """The shard of row ``seq`` of shard ``index``; raises unless it is the row due."""
        if self._next < 0 and (index, seq) == (self._index + 1, 0):
            self._index, self._next = index, 0
            shard = self._shards[index]
            self._sink = self._progress(shard) if self._progress else NullProgress()
            self._sink.set_total(shard.size)
        if (index, seq) != (self._index, self._next):
            raise RuntimeError(
                f"Ray returned row {seq} of shard {index}, not the row due "
                f"(row {self._next} of shard {self._index})"
            )
        self._next += 1
        return self._shards[index], self._sink

    def ended(self) -> None:
        """The current shard's end row was seen: the next row starts the next shard."""
        self._next = -1

    def finished(self) -> None:
        """Raises unless every shard ended."""
        if self._index != len(self._shards) - 1 or self._next >= 0:
            raise RuntimeError("Ray stopped before every shard was read")


class _MapStep:
    """The ``map_batches`` callable: one stage graph per actor, built once."""

    def __init__(self, spec: GraphSpec) -> None:
        self._graph: StageGraph | None = None
        self._error: bytes = b""
        try:
            self._graph = StageGraph.build(spec)
        except Exception as exc:  # noqa: BLE001 - raised again in the driver, in order
            self._error = _pickled_error(exc)

    def __call__(self, table: Any) -> Any:
        """Replace each document's payload with its pickled :class:`MappedRow`."""
        import pyarrow as pa

        kinds: list[int] = table.column("kind").to_pylist()
        payloads: list[bytes] = table.column("payload").to_pylist()
        if self._graph is None:
            kinds = [_FATAL] * len(kinds)
            payloads = [self._error] * len(payloads)
        else:
            docs = [i for i, kind in enumerate(kinds) if kind == _DOC]
            mapped = self._graph.map_batch([pickle.loads(payloads[i]) for i in docs])
            for index, row in zip(docs, mapped, strict=True):
                payloads[index] = pickle.dumps(row, protocol=pickle.HIGHEST_PROTOCOL)
        return pa.table(
            {
                "index": table.column("index"),
                "seq": table.column("seq"),
                "kind": pa.array(kinds, pa.int8()),
                "payload": pa.array(payloads, pa.large_binary()),
                "nbytes": table.column("nbytes"),
            }
        )


def _read_rows(source: Any, batch_size: int) -> Iterator[Any]:
    """The read task: each shard of ``source`` as tables of ``batch_size`` rows."""
    for index, blob in zip(
        source.column("index").to_pylist(), source.column("shard").to_pylist(), strict=True
    ):
        yield from _read_shard(index, pickle.loads(blob), batch_size)


def _read_shard(index: int, shard: Shard, batch_size: int) -> Iterator[Any]:
    progress = _ByteCounter()
    rows = _Columns(index)
    error = None
    try:
        for row in read_shard(shard, progress):
            rows.add(_BAD if isinstance(row, BadRow) else _DOC, row, progress.take())
            if len(rows) >= batch_size:
                yield rows.table()
    except InputError as exc:
        error = str(exc)
    rows.add(_END, error, progress.take())
    yield rows.table()


class _ByteCounter:
    """A progress sink that hands over the bytes read since the last :meth:`take`."""

    def __init__(self) -> None:
        self._pending = 0

    def set_total(self, n_bytes: int) -> None:
        """The driver sets the total itself."""

    def advance(self, n_bytes: int) -> None:
        """Count ``n_bytes`` more."""
        self._pending += n_bytes

    def take(self) -> int:
        """The bytes counted since the last call."""
        taken, self._pending = self._pending, 0
        return taken


class _Columns:
    """One shard's rows gathered into the columns of the stream, with a running ``seq``."""

    def __init__(self, index: int) -> None:
        self._index = index
        self._next = 0
        self._kind: list[int] = []
        self._payload: list[bytes] = []
        self._nbytes: list[int] = []

    def __len__(self) -> int:
        return len(self._kind)

    def add(self, kind: int, value: object, nbytes: int) -> None:
        """Append one row, pickling ``value``."""
        self._kind.append(kind)
        self._payload.append(pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL))
        self._nbytes.append(nbytes)

    def table(self) -> Any:
        """The rows gathered since the last call, as an Arrow table."""
        import pyarrow as pa

        count = len(self._kind)
        out = pa.table(
            {
                "index": pa.array([self._index] * count, pa.int32()),
                "seq": pa.array(range(self._next, self._next + count), pa.int64()),
                "kind": pa.array(self._kind, pa.int8()),
                "payload": pa.array(self._payload, pa.large_binary()),
                "nbytes": pa.array(self._nbytes, pa.int64()),
            }
        )
        self._next += count
        self._kind, self._payload, self._nbytes = [], [], []
        return out


def _decode(kind: int, payload: bytes, shard: Shard) -> Item | ShardEnd:
    """The item a row carries. Raises the error of an actor that could not start."""
    value = pickle.loads(payload)
    if kind == _DOC and isinstance(value, MappedRow):
        return value
    if kind == _BAD and isinstance(value, BadRow):
        return value
    if kind == _END and (value is None or isinstance(value, str)):
        return ShardEnd(shard, value)
    if kind == _FATAL:
        raise value if isinstance(value, BaseException) else RuntimeError(str(value))
    raise RuntimeError(f"row of kind {kind} came back as {type(value).__name__}")


def _pickled_error(exc: BaseException) -> bytes:
    try:
        return pickle.dumps(exc)
    except Exception:  # noqa: BLE001 - an unpicklable error travels as its message
        return pickle.dumps(RuntimeError(f"{type(exc).__name__}: {exc}"))


def _init_ray(address: str | None, workers: int) -> None:
    import ray

    where: dict[str, Any] = (
        {"num_cpus": max(2, workers), "include_dashboard": False}
        if address is None
        else {"address": address}
    )
    ray.init(**where, log_to_driver=False, ignore_reinit_error=True, logging_level=logging.WARNING)


def _quiet_context(block_bytes: int) -> DataContext:
    """A copy of the current DataContext: ordered, small blocks, no bars, no stats logs."""
    from ray.data import DataContext

    with warnings.catch_warnings():
        # Ray 2.60 warns about its own deprecated fields whenever a DataContext is made
        warnings.simplefilter("ignore", DeprecationWarning)
        context = DataContext.get_current().copy()
    context.execution_options.preserve_order = True
    context.execution_options.verbose_progress = False
    context.enable_progress_bars = False
    context.enable_operator_progress_bars = False
    context.print_on_execution_start = False
    context.enable_auto_log_stats = False
    context.verbose_stats_logs = False
    context.target_max_block_size = block_bytes
    return context
