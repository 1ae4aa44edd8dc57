"""The curation driver: every row accounted for, per-shard outputs, resume, fail closed."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from bastion.core.errors import InputError
from bastion.curate.config import CurateConfig
from bastion.curate.fakes import FAKE_REGISTRY
from bastion.curate.run import CurateRequest, curate
from bastion.policy.loader import load_policy

POLICY = load_policy(None)


def _config(**keyword: Any) -> CurateConfig:
    stages = [{"name": "fake_keyword", "options": keyword}, {"name": "fake_dedup"}]
    return CurateConfig.model_validate({"stages": stages, "batch_size": 4})


def _request(source: Path, out: Path, **changes: Any) -> CurateRequest:
    base = {
        "source": source,
        "out": out,
        "config": _config(),
        "policy": POLICY,
        "registry_factory": FAKE_REGISTRY,
    }
    return CurateRequest(**{**base, **changes})


def _lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text("utf-8").splitlines()]


def _write(path: Path, lines: list[str | bytes]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    data = b"".join((line if isinstance(line, bytes) else line.encode()) + b"\n" for line in lines)
    path.write_bytes(data)
    return path


def _row(text: str) -> str:
    return json.dumps({"text": text, "meta": "kept through"})


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    return _write(
        tmp_path / "in" / "part-0.jsonl",
        [
            _row("a good row 1"),
            "{broken json",
            _row("a forbidden row"),
            '["not", "an", "object"]',
            _row("a good row 1"),  # exact duplicate of line 1
            b'{"text": "bad \xff utf-8"}',
            json.dumps({"title": "no text field"}),
            json.dumps({"prompt": "hi", "response": "hello 42"}),
            json.dumps({"messages": [{"role": "user", "content": "yo"}]}),
        ],
    )


def test_every_input_row_lands_in_exactly_one_output(corpus: Path, tmp_path: Path) -> None:
    result = curate(_request(corpus, tmp_path / "out"))
    out = tmp_path / "out"
    kept = _lines(out / "kept" / "part-0.jsonl")
    removed = _lines(out / "removed" / "part-0.jsonl")
    errors = _lines(out / "errors" / "part-0.jsonl")
    assert len(kept) + len(removed) + len(errors) == 9
    assert sorted(e["line"] for e in errors) == [2, 4, 6, 7]
    assert {r["removed_by"]["reason"] for r in removed} == {"keyword", "exact_duplicate"}
    assert result.summary.totals.rows == 9
    assert (out / "report.html").is_file()
    assert (out / "report.json").is_file()
    assert (out / "state" / "part-0.json").is_file()
    assert not list((out / ".partial").glob("*"))


def test_kept_rows_keep_their_fields_with_redactions_and_an_id(
    corpus: Path, tmp_path: Path
) -> None:
    curate(_request(corpus, tmp_path / "out"))
    kept = _lines(tmp_path / "out" / "kept" / "part-0.jsonl")
    first = kept[0]
    assert first["meta"] == "kept through"
    assert first["text"] == "a good row #"
    assert first["curation"]["id"] == "part-0.jsonl:1"
    pair = next(row for row in kept if "prompt" in row)
    assert pair["response"] == "hello ##"


def test_a_removal_names_stage_rule_and_evidence(corpus: Path, tmp_path: Path) -> None:
    curate(_request(corpus, tmp_path / "out"))
    removed = _lines(tmp_path / "out" / "removed" / "part-0.jsonl")
    dup = next(r for r in removed if r["removed_by"]["reason"] == "exact_duplicate")
    assert dup["removed_by"]["stage"] == "fake_dedup"
    assert dup["removed_by"]["rule"] == "fake_dedup.sha256"
    assert "part-0.jsonl:1" in dup["removed_by"]["evidence"]
    assert dup["line"] == 5


def test_a_stage_that_raises_drops_only_its_row(corpus: Path, tmp_path: Path) -> None:
    request = _request(corpus, tmp_path / "out", config=_config(raise_on="hello"))
    curate(request)
    removed = _lines(tmp_path / "out" / "removed" / "part-0.jsonl")
    failed = [r for r in removed if r["removed_by"]["reason"] == "stage_error"]
    assert [r["line"] for r in failed] == [8]
    assert "told to fail" in failed[0]["removed_by"]["evidence"]
    kept = _lines(tmp_path / "out" / "kept" / "part-0.jsonl")
    assert len(kept) == 2  # the batch's other rows were judged one by one


def test_a_folder_of_shards_dedups_across_shards_and_skips_other_files(tmp_path: Path) -> None:
    _write(tmp_path / "in" / "a.jsonl", [_row("same text"), _row("only in a")])
    _write(tmp_path / "in" / "sub" / "b.jsonl", [_row("same text"), _row("only in b")])
    (tmp_path / "in" / "README.md").write_text("not a shard")
    curate(_request(tmp_path / "in", tmp_path / "out"))
    assert len(_lines(tmp_path / "out" / "kept" / "a.jsonl")) == 2
    removed = _lines(tmp_path / "out" / "removed" / "sub" / "b.jsonl")
    assert [r["removed_by"]["reason"] for r in removed] == ["exact_duplicate"]


def test_resume_skips_done_shards_and_still_finds_their_duplicates(tmp_path: Path) -> None:
    _write(tmp_path / "in" / "a.jsonl", [_row("same text"), _row("only in a")])
    _write(tmp_path / "in" / "b.jsonl", [_row("same text"), _row("only in b")])
    out = tmp_path / "out"
    first = curate(_request(tmp_path / "in", out))
    (out / "state" / "b.json").unlink()  # as if the run had died while writing shard b
    second = curate(_request(tmp_path / "in", out, resume=True))
    assert second.skipped_shards == 1
    assert [r["removed_by"]["reason"] for r in _lines(out / "removed" / "b.jsonl")] == [
        "exact_duplicate"
    ]
    assert second.summary.totals == first.summary.totals


def test_two_workers_give_the_same_outputs_as_one(corpus: Path, tmp_path: Path) -> None:
    curate(_request(corpus, tmp_path / "one"))
    curate(_request(corpus, tmp_path / "two", workers=2))
    for part in ("kept", "removed", "errors"):
        one = (tmp_path / "one" / part / "part-0.jsonl").read_bytes()
        assert one == (tmp_path / "two" / part / "part-0.jsonl").read_bytes(), part


def test_binary_and_empty_shards_are_reported_not_fatal(tmp_path: Path) -> None:
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "empty.jsonl").write_bytes(b"")
    (tmp_path / "in" / "binary.jsonl").write_bytes(bytes(range(256)) * 64)
    _write(tmp_path / "in" / "good.jsonl", [_row("fine")])
    result = curate(_request(tmp_path / "in", tmp_path / "out"))
    assert result.summary.totals.kept == 1
    assert _lines(tmp_path / "out" / "errors" / "binary.jsonl")
    assert (tmp_path / "out" / "kept" / "empty.jsonl").read_bytes() == b""


def test_a_missing_source_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such file or folder"):
        curate(_request(tmp_path / "nope", tmp_path / "out"))


def test_shards_that_would_share_outputs_are_refused(tmp_path: Path) -> None:
    _write(tmp_path / "in" / "a.jsonl", [_row("x")])
    _write(tmp_path / "in" / "a.json", [_row("y")])
    with pytest.raises(InputError, match="same outputs"):
        curate(_request(tmp_path / "in", tmp_path / "out"))


def test_the_report_certifies_the_eval_sets_by_hash(tmp_path: Path) -> None:
    import hashlib

    evals = _write(tmp_path / "evals.jsonl", [json.dumps({"text": " ".join(["word"] * 20)})])
    _write(tmp_path / "in.jsonl", [_row("fine row"), _row(" ".join(["word"] * 20))])
    stages = [{"name": "decontamination", "options": {"paths": [str(evals)]}}]
    config = CurateConfig.model_validate({"stages": stages})
    result = curate(CurateRequest(tmp_path / "in.jsonl", tmp_path / "out", config, POLICY))
    assert result.summary.totals.removed == 1
    record = json.loads((tmp_path / "out" / "report.json").read_text("utf-8"))
    certified = json.dumps(record["payload"])
    assert hashlib.sha256(evals.read_bytes()).hexdigest() in certified


def test_kept_rows_as_parquet_with_a_dataset_card_and_the_input_layout(tmp_path: Path) -> None:
    import pyarrow.parquet as pq

    _write(tmp_path / "in" / "prompts" / "harmful.jsonl", [_row("a row 1"), _row("forbidden")])
    _write(
        tmp_path / "in" / "chat.jsonl",
        [
            json.dumps({"messages": [{"role": "user", "content": "hi"}]}),
            json.dumps({"prompt": "p", "response": "r"}),
        ],
    )
    out = tmp_path / "out"
    curate(_request(tmp_path / "in", out, parquet=True))
    assert (out / "kept" / "prompts" / "harmful.jsonl").is_file()  # same layout as the input
    table = pq.read_table(out / "parquet" / "prompts" / "harmful.parquet")
    assert table.column("text").to_pylist() == ["a row #"]
    assert json.loads(table.column("fields").to_pylist()[0]) == {"meta": "kept through"}
    chat = pq.read_table(out / "parquet" / "chat.parquet").to_pylist()
    assert chat[0]["messages"] == [{"role": "user", "content": "hi"}]
    assert chat[1]["prompt"] == "p"
    assert chat[1]["completion"] == "r"
    card = (out / "README.md").read_text("utf-8")
    assert card.startswith("---\nconfigs:")
    assert "parquet/**/*.parquet" in card
