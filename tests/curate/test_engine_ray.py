"""The Ray Data engine gives the local engine's items, row for row, in file order.

One local Ray (2 CPUs) serves the whole module; the stage graph is the shipped fakes
(``fake_keyword`` drops, redacts digits and fails on a word; ``fake_dedup`` hashes), so
the actors build in milliseconds and the tests measure the engine only.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from bastion.batch.fakes import RecordingProgress
from bastion.core.errors import ConfigError, InputError
from bastion.curate.config import CurateConfig
from bastion.curate.engine_ray import RayEngine
from bastion.curate.engines import Item, LocalEngine, ShardEnd, ShardProgress
from bastion.curate.fakes import FAKE_REGISTRY
from bastion.curate.inputs import BadRow, Shard, list_shards
from bastion.curate.pipeline import GraphSpec, MappedRow, StageGraph
from bastion.curate.verdict import RowAction
from bastion.policy import Policy

ray = pytest.importorskip("ray")

BATCH = 16
BLOCK = 4096  # small blocks: the 200-row corpus spreads over both actors


@pytest.fixture(scope="module")
def local_ray() -> Iterator[None]:
    started = not ray.is_initialized()
    if started:
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    if started:
        ray.shutdown()


def _spec(policy: Policy, **keyword: Any) -> GraphSpec:
    stages = [
        {"name": "fake_keyword", "options": {"raise_on": "explode", **keyword}},
        {"name": "fake_dedup"},
    ]
    config = CurateConfig.model_validate({"stages": stages, "batch_size": BATCH})
    return GraphSpec(config, policy, "pretraining", Path.cwd(), registry_factory=FAKE_REGISTRY)


def _good(index: int) -> bytes:
    if index % 37 == 0:
        row: dict[str, Any] = {"text": f"a forbidden row {index}"}
    elif index % 41 == 0:
        row = {"text": f"this one will explode {index}"}
    elif index % 10 == 3:
        row = {"text": "the same words again"}  # duplicates
    elif index % 10 == 5:
        row = {"prompt": f"call me at {index}", "response": "ok, 555-0100"}
    elif index % 10 == 7:
        row = {"messages": [{"role": "user", "content": f"hi {index}"}]}
    else:
        row = {"text": f"plain row number {index}", "meta": {"n": index}}
    return json.dumps(row).encode()


MALFORMED = [
    b"{broken json",
    b'["not", "an", "object"]',
    json.dumps({"title": "no text field"}).encode(),
    b'{"text": "bad \xff\xfe utf-8"}',
]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    lines = []
    for index in range(200):
        if index % 50 == 25:
            lines.extend(MALFORMED)
        lines.append(_good(index))
    path = tmp_path_factory.mktemp("corpus") / "part-0.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    return path


@pytest.fixture(scope="module")
def shard(corpus: Path) -> Shard:
    return list_shards(corpus)[0]


@pytest.fixture(scope="module")
def expected(policy: Policy, shard: Shard) -> list[Item]:
    spec = _spec(policy)
    engine = LocalEngine(spec, workers=1, graph=StageGraph.build(spec), batch_size=BATCH)
    try:
        return list(engine.items(shard))
    finally:
        engine.close()


def test_the_corpus_exercises_every_path(expected: list[Item]) -> None:
    bad = [item for item in expected if isinstance(item, BadRow)]
    mapped = [item for item in expected if isinstance(item, MappedRow)]
    assert len(bad) == 16 and len(mapped) == 200
    actions = {v.action for m in mapped for v in m.row.verdicts}
    reasons = {v.reason for m in mapped for v in m.row.verdicts}
    assert {RowAction.DROP, RowAction.REDACT, RowAction.KEEP} <= actions
    assert {"keyword", "digits", "stage_error"} <= reasons
    assert any(m.features is None for m in mapped)  # dropped rows carry no features


@pytest.mark.parametrize("workers", [1, 2])
def test_ray_gives_the_local_engines_items_in_file_order(
    local_ray: None, policy: Policy, shard: Shard, expected: list[Item], workers: int
) -> None:
    engine = RayEngine(_spec(policy), workers=workers, batch_size=BATCH, block_bytes=BLOCK)
    progress = RecordingProgress()
    try:
        got = list(engine.items(shard, progress))
    finally:
        engine.close()
    assert got == expected  # same order, verdicts, redacted documents and features
    assert progress.total == shard.size
    assert progress.done == shard.size
    assert ray.is_initialized()  # the engine did not start this Ray: it leaves it running


def test_one_stream_over_many_shards(
    local_ray: None, policy: Policy, shard: Shard, expected: list[Item], tmp_path: Path
) -> None:
    other = tmp_path / "part-1.jsonl"
    other.write_bytes(b'{"text": "row 7 of another shard"}\n{oops\n')
    empty = tmp_path / "part-2.jsonl"
    empty.write_bytes(b"")
    gone = Shard("part-3.jsonl", tmp_path / "part-3.jsonl", shard.format)
    shards = [shard, *list_shards(other), *list_shards(empty), gone]
    engine = RayEngine(_spec(policy), workers=2, batch_size=BATCH, block_bytes=BLOCK)
    try:
        got = list(engine.stream(shards))
    finally:
        engine.close()
    ends = [(s.name, item.error) for s, item in got if isinstance(item, ShardEnd)]
    assert [name for name, _ in ends] == [s.name for s in shards]
    assert ends[0][1] is None and ends[2][1] is None
    assert ends[3][1] is not None and "not found" in ends[3][1]
    first = [item for s, item in got if s is shard and not isinstance(item, ShardEnd)]
    assert first == expected
    second = [item for s, item in got if s.name == "part-1.jsonl"]
    assert (
        isinstance(second[0], MappedRow) and second[0].row.document.text == "row # of another shard"
    )
    assert isinstance(second[1], BadRow) and second[1].line == 2


def test_a_stage_that_cannot_be_built_raises_in_the_driver(
    local_ray: None, policy: Policy, shard: Shard
) -> None:
    engine = RayEngine(_spec(policy, word=""), workers=1, batch_size=BATCH)
    try:
        with pytest.raises(ConfigError, match="fake_keyword"):
            list(engine.items(shard))
    finally:
        engine.close()


class _EndsInError(RayEngine):
    """Streams one shard that ends in a read error (no Dataset: tests ``items``)."""

    def stream(
        self, shards: Sequence[Shard], progress: ShardProgress | None = None
    ) -> Iterator[tuple[Shard, Item | ShardEnd]]:
        yield shards[0], BadRow(shards[0].name, 1, "broken", "{")
        yield shards[0], ShardEnd(shards[0], f"{shards[0].path}: file not found")


def test_items_raises_a_shards_read_error_after_its_rows(
    local_ray: None, policy: Policy, shard: Shard
) -> None:
    engine = _EndsInError(_spec(policy), workers=1)
    rows = engine.items(shard)
    assert isinstance(next(rows), BadRow)
    with pytest.raises(InputError, match="not found"):
        next(rows)
    engine.close()


def test_bastion_curate_on_ray_writes_the_local_outputs_byte_for_byte(
    local_ray: None, policy: Policy, corpus: Path, tmp_path: Path
) -> None:
    """The whole run (driver, dedup, writers) over two shards: ``--engine ray`` and the
    local engine give identical kept, removed and error files."""
    from bastion.curate.run import CurateRequest, curate

    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "a.jsonl").write_bytes(corpus.read_bytes())
    (folder / "b.jsonl").write_bytes(corpus.read_bytes())  # all duplicates of shard a
    config = _spec(policy).config
    runs = {}
    for engine, workers in (("local", 1), ("ray", 2)):
        out = tmp_path / f"{engine}-{workers}"
        request = CurateRequest(
            source=folder,
            out=out,
            config=config,
            policy=policy,
            engine=engine,  # type: ignore[arg-type]
            workers=workers,
            registry_factory=FAKE_REGISTRY,
        )
        runs[engine] = curate(request)
        assert (out / "report.html").is_file()
    for part in ("kept", "removed", "errors"):
        for name in ("a.jsonl", "b.jsonl"):
            local = (tmp_path / "local-1" / part / name).read_bytes()
            assert local == (tmp_path / "ray-2" / part / name).read_bytes(), (part, name)
    assert runs["local"].summary.totals == runs["ray"].summary.totals
