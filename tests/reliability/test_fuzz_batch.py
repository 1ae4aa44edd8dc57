"""Fuzz the batch readers: any bytes in a .jsonl, .jsonl.gz or .csv file give rows or an
InputError, never another exception; with ``skip_bad`` every row is written out.

The guard is a real one with no layers (every row is decided, quickly), so the whole path
runs: reader, row parsing, context check, writer, atomic rename.
"""

from __future__ import annotations

import contextlib
import gzip
import json
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

from bastion.batch import BatchFormat, NullProgress, run_batch
from bastion.batch.rows import parse_row
from bastion.batch.sources import open_source
from bastion.core.errors import BatchInputError, InputError
from bastion.core.registry import Registry
from bastion.guard import Guard, GuardConfig
from bastion.guard.layers.base import LayerPlugin

pytestmark = pytest.mark.reliability

_JSON: st.SearchStrategy[Any] = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=10),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(
            st.sampled_from(["text", "messages", "response", "context", "role", "content", "id"]),
            inner,
            max_size=4,
        )
    ),
    max_leaves=10,
)
_ROW_VALUES = {
    "text": st.text(max_size=20) | _JSON,
    "messages": st.lists(
        st.fixed_dictionaries(
            {"role": st.sampled_from(["user", "assistant", "system", "wizard"]) | _JSON},
            optional={"content": st.text(max_size=10) | _JSON},
        ),
        max_size=3,
    )
    | _JSON,
    "response": st.text(max_size=10) | _JSON,
    "context": st.sampled_from(["general", "minors", "moon"]) | _JSON,
}
_ROW = st.fixed_dictionaries({}, optional=_ROW_VALUES)
_SPICE = [b"\xff\xfe", b"\xe9", b"\x00", b"\r", b"\n", b'"', b",", b"[" * 50, b"\xef\xbb\xbf"]
_LINE = st.one_of(
    _ROW.map(lambda row: json.dumps(row).encode()),
    _JSON.map(lambda value: json.dumps(value).encode()),
    st.binary(max_size=40),
    st.lists(st.sampled_from(_SPICE) | st.binary(max_size=5), max_size=6).map(b"".join),
    st.text(max_size=30).map(lambda t: t.encode("utf-16" if len(t) % 2 else "latin-1", "replace")),
)
_JSONL = st.lists(_LINE, max_size=8).map(b"\n".join)
_CSV_HEADER = st.sampled_from([b"text", b"text,context", b"messages,response", b"id,text,id", b""])
_CSV = st.tuples(_CSV_HEADER, st.lists(_LINE, max_size=6)).map(
    lambda parts: b"\n".join([parts[0], *parts[1]])
)


@pytest.fixture(scope="module")
def guard() -> Iterator[Guard]:
    registry: Registry[LayerPlugin] = Registry("layer")
    with Guard.from_policy(config=GuardConfig(layers=[]), registry=registry) as built:
        yield built


def _read_all(path: Path, fmt: BatchFormat) -> None:
    """Read every row and parse it: bad rows carry an error, parsing raises InputError."""
    with ExitStack() as stack, contextlib.suppress(InputError):
        for row in open_source(path, fmt, NullProgress(), stack).rows:
            assert row.error is not None or row.data is not None
            row.excerpt()
            if row.data is not None:
                with contextlib.suppress(InputError):
                    parse_row(row.data)


def _run(guard: Guard, data: bytes, name: str, fmt: BatchFormat) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        source, dest = Path(tmp) / name, Path(tmp) / "out.jsonl"
        source.write_bytes(data)
        _read_all(source, fmt)
        stopped = False
        try:
            run_batch(guard, source, dest)
        except InputError:  # BatchInputError included: a bad row stops the run
            stopped = True
        assert dest.exists() != stopped  # all or nothing
        event("stopped at a bad row" if stopped else "completed")
        try:
            summary = run_batch(guard, source, dest, skip_bad=True)
        except BatchInputError as exc:  # pragma: no cover - skip_bad never stops at a row
            raise AssertionError(f"skip_bad stopped at a row: {exc}") from exc
        except InputError:
            return  # the file as a whole is unreadable (bad header, corrupt gzip)
        # Lines end in b"\n" only (a raw U+2028 in a JSON string is not a line break).
        lines = dest.read_bytes().count(b"\n")
        assert lines == summary.rows == summary.decided + summary.bad


@settings(settings.get_profile("bastion-fuzz"))
@given(_JSONL)
def test_batch_jsonl(guard: Guard, data: bytes) -> None:
    _run(guard, data, "in.jsonl", BatchFormat.JSONL)


@settings(settings.get_profile("bastion-fuzz"))
@given(_JSONL, st.integers(0, 60))
def test_batch_jsonl_gz(guard: Guard, data: bytes, cut: int) -> None:
    """Compressed input, sometimes cut short or not gzip at all."""
    packed = gzip.compress(data)
    packed = packed[: len(packed) - cut] if cut % 3 else packed
    _run(guard, packed if cut != 7 else data, "in.jsonl.gz", BatchFormat.JSONL_GZ)


@settings(settings.get_profile("bastion-fuzz"))
@given(_CSV)
def test_batch_csv(guard: Guard, data: bytes) -> None:
    _run(guard, data, "in.csv", BatchFormat.CSV)
