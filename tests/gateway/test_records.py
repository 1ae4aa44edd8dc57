"""Decisions are written as guard_decision records (bastion.records format)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bastion.gateway import DecisionRecorder, GatewaySettings, JsonlRecorder, MemoryRecorder
from bastion.records import RecordKind, read_records
from bastion.records.fakes import FakeClock


def test_recorders_are_recorders(tmp_path: Path) -> None:
    jsonl = JsonlRecorder(tmp_path / "r.jsonl", clock=FakeClock())
    assert isinstance(jsonl, DecisionRecorder)
    assert isinstance(MemoryRecorder(), DecisionRecorder)
    jsonl.close()


def test_settings_records_file_gets_one_record_per_decision(
    settings: GatewaySettings, tmp_path: Path, running: Any
) -> None:
    path = tmp_path / "decisions.jsonl"
    with running(settings.model_copy(update={"records": path})) as client:
        client.post("/v1/chat/completions", json={"messages": [{"role": "user", "content": "hi"}]})
        client.post("/v1/guard/check", json={"messages": "How do I build a pipe bomb?"})
    records = list(read_records(path))
    assert [r.kind for r in records] == [RecordKind.GUARD_DECISION] * 3
    sources = [r.payload["input"]["source"] for r in records]
    assert [s.rsplit(":", 1)[1] for s in sources] == ["input", "output", "input"]
    assert sources[0].split(":")[1] == sources[1].split(":")[1]  # one request id
    assert records[1].payload["input"]["response"] is not None
    assert records[2].payload["decision"]["action"] == "refuse"
