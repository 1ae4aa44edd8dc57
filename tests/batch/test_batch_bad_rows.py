"""Bad rows: stop at the first one with its line, or keep every row with skip_bad."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest

from bastion.batch import run_batch
from bastion.batch.sources import bounded_lines
from bastion.core.errors import BatchInputError, InputError
from bastion.core.registry import Registry
from bastion.guard import Guard, GuardConfig
from bastion.guard.layers.base import LayerPlugin

pq = pytest.importorskip("pyarrow.parquet")
pa = pytest.importorskip("pyarrow")

GOOD = b'{"text": "hello", "id": 1}\n'

BAD_LINES = {
    "malformed JSON": (b'{"text": "hello"\n', "not valid JSON"),
    "not an object": (b'["text", "hello"]\n', "must be a JSON object, got an array"),
    "no text": (b'{"prompt": "hello"}\n', "neither 'text' nor 'messages'"),
    "text not a string": (b'{"text": 42}\n', "'text' must be a string"),
    "both": (b'{"text": "a", "messages": []}\n', "both 'text' and 'messages'"),
    "bad messages": (b'{"messages": [{"role": "wizard", "content": "x"}]}\n', "unknown role"),
    "messages not a list": (b'{"messages": {"role": "user"}}\n', "must be a list"),
    "response not a string": (b'{"text": "a", "response": 1}\n', "'response' must be"),
    "unknown context": (b'{"text": "a", "context": "moon"}\n', "unknown context 'moon'"),
    "invalid UTF-8": (b'{"text": "caf\xe9"}\n', "invalid UTF-8"),
    "deeply nested": (b"[" * 100_000 + b"\n", "nested too deeply"),
    "nested messages JSON": (
        b'{"messages": "' + b"[" * 100_000 + b'"}\n',
        "'messages' is not valid JSON",
    ),
}


@pytest.fixture
def guard(fake_registry: Registry[LayerPlugin]) -> Guard:
    return Guard.from_policy(config=GuardConfig(layers=[]), registry=fake_registry)


def _read(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text("utf-8").splitlines()]


@pytest.mark.parametrize("case", sorted(BAD_LINES))
def test_bad_row_stops_the_run_with_its_line(guard: Guard, tmp_path: Path, case: str) -> None:
    line, message = BAD_LINES[case]
    source = tmp_path / "in.jsonl"
    source.write_bytes(GOOD + b"\n" + line + GOOD)  # blank line 2: the bad row is line 3
    with pytest.raises(BatchInputError, match=message) as caught:
        run_batch(guard, source, tmp_path / "out.jsonl")
    assert caught.value.line == 3
    assert str(caught.value).startswith(f"{source}:3: ")
    assert list(tmp_path.iterdir()) == [source]  # nothing partial left behind


@pytest.mark.parametrize("case", sorted(BAD_LINES))
def test_skip_bad_keeps_every_row(guard: Guard, tmp_path: Path, case: str) -> None:
    line, message = BAD_LINES[case]
    source = tmp_path / "in.jsonl"
    source.write_bytes(GOOD + line + GOOD)
    summary = run_batch(guard, source, tmp_path / "out.jsonl", skip_bad=True)
    rows = _read(tmp_path / "out.jsonl")
    assert len(rows) == 3 == summary.rows
    assert (summary.decided, summary.bad) == (2, 1)
    assert rows[0]["decision"]["action"] == "allow" and rows[0]["id"] == 1
    error = rows[1]["error"]
    assert error["line"] == 2
    assert message in error["error"]
    assert len(error["raw"]) <= 1000
    assert "decision" not in rows[1]


def test_raw_excerpt_replaces_invalid_bytes(guard: Guard, tmp_path: Path) -> None:
    source = tmp_path / "in.jsonl"
    source.write_bytes(b'{"text": "caf\xe9 ' + b"x" * 5000 + b'"}\n')
    run_batch(guard, source, tmp_path / "out.jsonl", skip_bad=True)
    (row,) = _read(tmp_path / "out.jsonl")
    assert row["error"]["raw"].startswith('{"text": "caf\ufffd x')
    assert len(row["error"]["raw"]) == 1000


def test_huge_text_row_is_decided(guard: Guard, tmp_path: Path) -> None:
    source = tmp_path / "in.jsonl"
    huge = "a" * 10_000_000
    source.write_text(json.dumps({"text": huge}) + "\n" + json.dumps({"text": "b"}) + "\n")
    summary = run_batch(guard, source, tmp_path / "out.jsonl")
    rows = _read(tmp_path / "out.jsonl")
    assert summary.decided == 2
    assert rows[0]["text"] == huge
    assert rows[0]["decision"]["action"] in {"allow", "caution", "ask_context", "refuse"}


def test_over_long_lines_are_cut_and_drained() -> None:
    stream = io.BytesIO(b"short\n" + b"x" * 100 + b"\nafter\n" + b"y" * 50)
    assert list(bounded_lines(stream, limit=20)) == [
        (b"short\n", False),
        (b"x" * 21, True),  # the start of the line, for the error report
        (b"after\n", False),
        (b"y" * 21, True),
    ]


def test_csv_bad_rows_have_their_line_numbers(guard: Guard, tmp_path: Path) -> None:
    source = tmp_path / "in.csv"
    source.write_bytes(
        b"text,messages,note\n"
        b"ok,,1\n"
        b'"multi\nline",,2\n'
        b"caf\xe9,,3\n"
        b',"[{""role"": ""wizard""}]",4\n'
        b",,5\n"
        b"a,,6,extra\n"
        b"fine,,7\n"
    )
    with pytest.raises(BatchInputError, match=r"in\.csv:5: invalid UTF-8 on line 5"):
        run_batch(guard, source, tmp_path / "out.csv")
    summary = run_batch(guard, source, tmp_path / "out.csv", skip_bad=True)
    with (tmp_path / "out.csv").open(newline="", encoding="utf-8") as stream:
        rows = list(csv.DictReader(stream))
    assert [row["note"] for row in rows] == ["1", "2", "", "4", "5", "", "7"]
    errors = {
        json.loads(r["error"])["line"]: json.loads(r["error"])["error"] for r in rows if r["error"]
    }
    assert sorted(errors) == [5, 6, 8]
    assert "unknown role" in errors[6]
    assert "more fields than the header" in errors[8]
    assert rows[4]["decision"]  # an empty text cell is still a decision
    assert (summary.rows, summary.bad) == (7, 3)


def test_parquet_bad_rows_keep_only_the_error(guard: Guard, tmp_path: Path) -> None:
    source = tmp_path / "in.parquet"
    pq.write_table(pa.table({"text": ["a", None, "c"], "n": [1, 2, 3]}), source)
    with pytest.raises(BatchInputError, match=r"in\.parquet:2: row has neither"):
        run_batch(guard, source, tmp_path / "out.parquet")
    run_batch(guard, source, tmp_path / "out.parquet", skip_bad=True)
    rows = pq.read_table(tmp_path / "out.parquet").to_pylist()
    assert len(rows) == 3
    assert rows[1]["n"] is None
    assert json.loads(rows[1]["error"]) == {
        "line": 2,
        "error": "row has neither 'text' nor 'messages'",
        "raw": '{"text": null, "n": 2}',
    }


def test_failure_midway_leaves_an_existing_output_untouched(guard: Guard, tmp_path: Path) -> None:
    dest = tmp_path / "out.jsonl"
    dest.write_text("previous run\n")
    source = tmp_path / "in.jsonl"
    source.write_bytes(GOOD * 5000 + b"oops\n")
    with pytest.raises(BatchInputError, match=":5001: "):
        run_batch(guard, source, dest)
    assert dest.read_text() == "previous run\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.jsonl", "out.jsonl"]


def test_a_json_array_file_gets_a_hint(guard: Guard, tmp_path: Path) -> None:
    source = tmp_path / "in.json"
    source.write_text('[{"text": "a"},\n {"text": "b"}]\n', "utf-8")
    with pytest.raises(BatchInputError, match="JSON Lines: one object per line"):
        run_batch(guard, source, tmp_path / "out.jsonl")


def test_an_unwritable_destination_is_an_input_error(guard: Guard, tmp_path: Path) -> None:
    source = tmp_path / "in.jsonl"
    source.write_bytes(GOOD)
    (tmp_path / "out.jsonl").mkdir()
    with pytest.raises(InputError, match=r"out\.jsonl"):
        run_batch(guard, source, tmp_path / "out.jsonl")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.jsonl", "out.jsonl"]


@pytest.mark.parametrize("workers", [2, 3])
def test_workers_keep_order_bad_rows_and_decisions(
    guard: Guard, tmp_path: Path, workers: int
) -> None:
    lines = [GOOD.replace(b"1}", f"{n}}}".encode()) for n in range(100)]
    lines[7] = BAD_LINES["malformed JSON"][0]
    lines[60] = BAD_LINES["unknown context"][0]
    source = tmp_path / "in.jsonl"
    source.write_bytes(b"".join(lines))
    one, many = tmp_path / "one.jsonl", tmp_path / "many.jsonl"
    run_batch(guard, source, one, skip_bad=True)
    summary = run_batch(guard, source, many, skip_bad=True, workers=workers)
    assert (summary.rows, summary.bad) == (100, 2)
    assert _read(many) == _read(one)
    with pytest.raises(BatchInputError) as stopped:
        run_batch(guard, source, tmp_path / "stop.jsonl", workers=workers)
    assert stopped.value.line == 8
    assert not (tmp_path / "stop.jsonl").exists()


def test_workers_must_be_positive(guard: Guard, tmp_path: Path) -> None:
    source = tmp_path / "in.jsonl"
    source.write_bytes(GOOD)
    with pytest.raises(InputError, match="at least 1"):
        run_batch(guard, source, tmp_path / "out.jsonl", workers=0)
