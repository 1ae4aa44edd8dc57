"""The record format: round trip, append-only writes, supersedes chains, bad input."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from bastion.core import Action, Decision, Limit, Message, Role
from bastion.core.errors import RecordError
from bastion.records import (
    RECORD_VERSION,
    Record,
    RecordKind,
    RecordWriter,
    decision_record,
    latest_records,
    new_record,
    read_records,
)
from bastion.records.fakes import FakeClock, SequentialIds


def _decision() -> Decision:
    return Decision(
        action=Action.REFUSE,
        review=False,
        score=0.97,
        category="mass_casualty_weapons",
        limit=Limit.HARD,
        techniques=("obfuscation:base64",),
        layer="rules",
        explanation="I can't help make weapons.",
        policy="bastion-default@2",
    )


def _write(path: Path, *records: Record) -> None:
    with RecordWriter(path) as writer:
        writer.write_all(records)


def test_round_trip_keeps_every_field(tmp_path: Path) -> None:
    clock = FakeClock()
    record = new_record(
        RecordKind.EVAL_RESULT, {"f1": 0.9, "text": "é ✓"}, clock=clock, producer="test 1"
    )
    path = tmp_path / "r.jsonl"
    _write(path, record)
    (back,) = list(read_records(path))
    assert back == record
    assert back.created_at.tzinfo is not None
    line = json.loads(path.read_text("utf-8"))
    assert line["schema"] == "bastion.record"
    assert line["version"] == RECORD_VERSION
    assert line["created_at"] == "2025-01-01T00:00:00Z"


def test_lone_surrogates_survive_the_round_trip(tmp_path: Path) -> None:
    record = new_record("eval_result", {"text": "bad \udc80 byte"}, clock=FakeClock())
    path = tmp_path / "r.jsonl"
    _write(path, record)
    (back,) = read_records(path)
    assert back.payload["text"] == "bad \udc80 byte"


def test_append_never_truncates(tmp_path: Path) -> None:
    clock, ids = FakeClock(), SequentialIds()
    path = tmp_path / "r.jsonl"
    first = new_record("eval_result", {"n": 1}, clock=clock, id_factory=ids)
    second = new_record("eval_result", {"n": 2}, clock=clock, id_factory=ids)
    _write(path, first)
    _write(path, second)
    assert [r.payload["n"] for r in read_records(path)] == [1, 2]


def test_a_torn_last_line_is_sealed_before_appending(tmp_path: Path) -> None:
    path = tmp_path / "r.jsonl"
    path.write_bytes(b'{"schema": "bastion.rec')  # a crash mid-write
    _write(path, new_record("eval_result", {}, clock=FakeClock()))
    lines = path.read_bytes().splitlines()
    assert len(lines) == 2
    with pytest.raises(RecordError, match=r"r\.jsonl:1: not valid JSON"):
        list(read_records(path))


def test_supersedes_chain_resolves_to_the_latest_edit(tmp_path: Path) -> None:
    clock, ids = FakeClock(), SequentialIds()
    original = decision_record(_decision(), messages="hi", clock=clock, id_factory=ids)
    edit = new_record(
        "review_decision", {"action": "allow"}, clock=clock, supersedes=original.id, id_factory=ids
    )
    again = new_record(
        "review_decision", {"action": "caution"}, clock=clock, supersedes=edit.id, id_factory=ids
    )
    other = new_record("eval_result", {}, clock=clock, id_factory=ids)
    path = tmp_path / "r.jsonl"
    _write(path, original, edit, again, other)
    records = list(read_records(path))
    assert records[0] == original  # the original is still there, untouched
    assert [r.id for r in latest_records(records)] == [again.id, other.id]


def test_a_record_cannot_supersede_itself() -> None:
    with pytest.raises(RecordError, match="supersede itself"):
        new_record("eval_result", {}, clock=FakeClock(), supersedes="a", id_factory=lambda: "a")


def test_bad_line_names_path_and_line(tmp_path: Path) -> None:
    path = tmp_path / "r.jsonl"
    _write(path, new_record("eval_result", {}, clock=FakeClock()))
    with path.open("ab") as stream:
        stream.write(b"\n{not json}\n")
    records = read_records(path)
    next(records)
    with pytest.raises(RecordError, match=r"r\.jsonl:3: not valid JSON"):
        next(records)


@pytest.mark.parametrize(
    ("line", "message"),
    [
        (b"[1, 2]", "must be a JSON object"),
        (b"\xff\xfe", "not valid UTF-8"),
        (b"[" * 100_000, "not valid JSON"),
        (b'{"schema": "bastion.record"}', "invalid record"),
    ],
)
def test_malformed_lines_raise_record_error(tmp_path: Path, line: bytes, message: str) -> None:
    path = tmp_path / "r.jsonl"
    path.write_bytes(line + b"\n")
    with pytest.raises(RecordError, match=message):
        list(read_records(path))


def test_future_version_is_refused(tmp_path: Path) -> None:
    data = new_record("eval_result", {}, clock=FakeClock()).model_dump(mode="json")
    data["version"] = RECORD_VERSION + 1
    path = tmp_path / "r.jsonl"
    path.write_text(json.dumps(data) + "\n", "utf-8")
    with pytest.raises(RecordError, match=r"r\.jsonl:1: .*written by a newer bastion"):
        list(read_records(path))


@pytest.mark.parametrize(
    "when",
    [datetime(2025, 1, 1), datetime(2025, 1, 1, tzinfo=timezone(timedelta(hours=2)))],
    ids=["naive", "plus-two"],
)
def test_non_utc_timestamps_are_rejected(when: datetime) -> None:
    with pytest.raises(RecordError, match="UTC"):
        new_record("eval_result", {}, clock=lambda: when)


def test_unknown_kind_and_extra_fields_are_rejected(tmp_path: Path) -> None:
    with pytest.raises(RecordError, match="kind"):
        new_record("gossip", {}, clock=FakeClock())
    data = new_record("eval_result", {}, clock=FakeClock()).model_dump(mode="json")
    data["surprise"] = 1
    path = tmp_path / "r.jsonl"
    path.write_text(json.dumps(data) + "\n", "utf-8")
    with pytest.raises(RecordError, match="surprise"):
        list(read_records(path))


def test_missing_file_raises_at_once(tmp_path: Path) -> None:
    with pytest.raises(RecordError, match="file not found"):
        read_records(tmp_path / "absent.jsonl")


def test_writer_refuses_after_close_and_bad_folder(tmp_path: Path) -> None:
    writer = RecordWriter(tmp_path / "r.jsonl", fsync=True)
    writer.close()
    with pytest.raises(RecordError, match="closed"):
        writer.write(new_record("eval_result", {}, clock=FakeClock()))
    with pytest.raises(RecordError, match="cannot open"):
        RecordWriter(tmp_path / "no" / "such" / "r.jsonl")


def test_decision_record_summarises_the_input() -> None:
    messages = [Message(Role.USER, "first"), {"role": "assistant", "content": "ok"}]
    messages.append(Message(Role.USER, "x" * 5000))
    record = decision_record(
        _decision(), messages=messages, response="no", clock=FakeClock(), source="in.jsonl:3"
    )
    assert record.kind is RecordKind.GUARD_DECISION
    summary = record.payload["input"]
    assert summary["turns"] == 3
    assert summary["chars"] == 5007
    assert len(summary["last_user"]) == 2000
    assert summary["response"] == "no"
    assert summary["source"] == "in.jsonl:3"
    assert len(summary["sha256"]) == 64
    assert record.payload["decision"] == _decision().to_dict()


def test_created_at_is_utc_and_ids_are_unique() -> None:
    first = new_record("eval_result", {}, clock=lambda: datetime.now(UTC))
    second = new_record("eval_result", {}, clock=lambda: datetime.now(UTC))
    assert first.id != second.id
    assert len(first.id) == 32
    assert first.created_at.utcoffset() == timedelta(0)
    assert first.producer.startswith("bastion ")
