"""Constant memory: a 50 MB input streams through with a small, bounded peak."""

from __future__ import annotations

import json
import time
import tracemalloc
from pathlib import Path

import pytest

from bastion.batch import run_batch
from bastion.core.registry import Registry
from bastion.guard import Guard, GuardConfig
from bastion.guard.layers.base import LayerPlugin

SIZE = 50_000_000
PEAK_LIMIT = 20_000_000


def _write(path: Path, header: bytes, line: bytes) -> int:
    with path.open("wb") as stream:
        stream.write(header)
        stream.writelines([line] * (SIZE // len(line)))
    return SIZE // len(line)


def _inputs(tmp_path: Path, fmt: str) -> tuple[Path, int]:
    text = "lorem ipsum dolor sit amet " * 800  # ~21 kB a row: few rows, real bytes
    if fmt == "jsonl":
        line = (json.dumps({"text": text, "label": "x"}) + "\n").encode()
        return tmp_path / "in.jsonl", _write(tmp_path / "in.jsonl", b"", line)
    line = f'"{text}",x\n'.encode()
    return tmp_path / "in.csv", _write(tmp_path / "in.csv", b"text,label\n", line)


@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
def test_memory_stays_flat_on_a_large_file(
    fake_registry: Registry[LayerPlugin], tmp_path: Path, fmt: str
) -> None:
    # Every row is over the guard's size cap, so the guard answers at once: the test
    # measures the streaming machinery, not normalisation (which tracemalloc slows 20x).
    config = GuardConfig(layers=[], max_input_chars=100)
    guard = Guard.from_policy(config=config, registry=fake_registry)
    source, rows = _inputs(tmp_path, fmt)
    started = time.perf_counter()
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        summary = run_batch(guard, source, tmp_path / f"out.{fmt}")
        peak = tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()
    assert summary.rows == rows
    assert (tmp_path / f"out.{fmt}").stat().st_size > SIZE
    assert peak < PEAK_LIMIT, f"peak grew by {peak / 1e6:.1f} MB on a {SIZE / 1e6:.0f} MB file"
    print(f"{fmt}: {rows} rows, peak +{peak / 1e6:.2f} MB, {time.perf_counter() - started:.1f} s")
