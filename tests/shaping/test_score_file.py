"""Streaming reward scoring of JSONL files: output rows, bad rows, formats."""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest

from bastion.batch.fakes import RecordingProgress
from bastion.core.errors import BatchInputError, InputError
from bastion.shaping.score_file import score_file, score_row_input


class _Scorer:
    def __init__(self) -> None:
        self.batches: list[int] = []

    def score_many(self, pairs: Iterable[tuple[str, str]], *, batch_size: int = 32) -> list[float]:
        items = list(pairs)
        self.batches.append(len(items))
        return [float(len(r)) - (100.0 if "can't" in r else 0.0) for _, r in items]


def _write(path: Path, lines: list[Any]) -> Path:
    text = "\n".join(x if isinstance(x, str) else json.dumps(x) for x in lines) + "\n"
    path.write_text(text, encoding="utf-8")
    return path


def _rows(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text("utf-8").splitlines()]


def test_rows_keep_their_fields_and_gain_a_reward(tmp_path: Path) -> None:
    source = _write(
        tmp_path / "in.jsonl",
        [
            {"prompt": "How do I kill a Python process?", "response": "kill PID", "id": 7},
            {"prompt": [{"role": "user", "content": "hi"}], "response": "I can't."},
        ],
    )
    progress = RecordingProgress()
    summary = score_file(_Scorer(), source, tmp_path / "out.jsonl", progress=progress)
    assert summary.to_dict()["rows"] == 2
    assert (summary.scored, summary.bad) == (2, 0)
    first, second = _rows(tmp_path / "out.jsonl")
    assert first == {
        "prompt": "How do I kill a Python process?",
        "response": "kill PID",
        "id": 7,
        "reward": 8.0,
    }
    assert second["reward"] == pytest.approx(8.0 - 100.0)
    assert progress.done == progress.total


def test_a_bad_row_stops_the_run_with_its_line(tmp_path: Path) -> None:
    source = _write(tmp_path / "in.jsonl", [{"prompt": "a", "response": "b"}, {"prompt": "a"}])
    with pytest.raises(BatchInputError, match=r"in\.jsonl:2: row needs 'response'"):
        score_file(_Scorer(), source, tmp_path / "out.jsonl")
    assert not (tmp_path / "out.jsonl").exists()


def test_skip_bad_writes_one_row_per_input_row(tmp_path: Path) -> None:
    lines: list[Any] = [
        {"prompt": "a", "response": "b"},
        "{not json",
        {"prompt": 3, "response": "b"},
        "",
        {"prompt": "c", "response": "d"},
    ]
    source = _write(tmp_path / "in.jsonl", lines)
    summary = score_file(_Scorer(), source, tmp_path / "out.jsonl", skip_bad=True)
    assert (summary.rows, summary.scored, summary.bad) == (4, 2, 2)
    rows = _rows(tmp_path / "out.jsonl")
    assert [r.get("error", {}).get("line") for r in rows] == [None, 2, 3, None]
    assert "not valid JSON" in rows[1]["error"]["error"]


def test_gzip_in_and_out_and_batching(tmp_path: Path) -> None:
    source = tmp_path / "in.jsonl.gz"
    rows = [{"prompt": f"q{i}", "response": "r" * i} for i in range(150)]
    source.write_bytes(gzip.compress("".join(json.dumps(r) + "\n" for r in rows).encode()))
    scorer = _Scorer()
    score_file(scorer, source, tmp_path / "out.jsonl.gz")
    out = gzip.decompress((tmp_path / "out.jsonl.gz").read_bytes()).decode().splitlines()
    assert [json.loads(x)["reward"] for x in out] == [float(i) for i in range(150)]
    assert scorer.batches == [64, 64, 22]


def test_refuses_other_formats_and_overwriting_the_input(tmp_path: Path) -> None:
    source = _write(tmp_path / "in.jsonl", [{"prompt": "a", "response": "b"}])
    with pytest.raises(InputError, match="JSON Lines"):
        score_file(_Scorer(), source, tmp_path / "out.csv")
    with pytest.raises(InputError, match="must not be the input"):
        score_file(_Scorer(), source, source)
    with pytest.raises(InputError, match="file not found"):
        score_file(_Scorer(), tmp_path / "missing.jsonl", tmp_path / "out.jsonl")


def test_row_input_validation() -> None:
    assert score_row_input({"prompt": "p", "response": "r"}) == ("p", "r")
    with pytest.raises(InputError, match="end with a user message"):
        score_row_input({"prompt": [{"role": "assistant", "content": "x"}], "response": "r"})
    with pytest.raises(InputError, match="'prompt'"):
        score_row_input({"prompt": None, "response": "r"})
