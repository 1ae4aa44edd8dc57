"""Property tests: any JSON-ready payload survives the record round trip; the surface is pinned."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

import bastion.batch
import bastion.records
from bastion.records import RecordWriter, new_record, read_records, record_line
from bastion.records.fakes import FakeClock

_json = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**53), max_value=2**53)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),  # includes lone surrogates
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


@settings(max_examples=200, deadline=None)
@given(payload=st.dictionaries(st.text(), _json, max_size=5))
def test_any_json_payload_round_trips(payload: dict[str, Any]) -> None:
    record = new_record("eval_result", payload, clock=FakeClock())
    line = record_line(record)
    assert line.endswith(b"\n") and line.count(b"\n") == 1
    line.decode("utf-8")  # always valid UTF-8, whatever the text held
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "r.jsonl"
        with RecordWriter(path) as writer:
            writer.write(record)
        assert path.read_bytes() == line
        assert list(read_records(path)) == [record]


def test_public_surfaces_are_pinned() -> None:
    assert sorted(bastion.records.__all__) == sorted(
        [
            "RECORD_SCHEMA",
            "RECORD_VERSION",
            "Clock",
            "Record",
            "RecordKind",
            "RecordWriter",
            "decision_record",
            "default_producer",
            "input_summary",
            "latest_records",
            "new_id",
            "new_record",
            "read_records",
            "record_line",
            "utc_now",
        ]
    )
    assert sorted(bastion.batch.__all__) == sorted(
        [
            "BatchFormat",
            "BatchSummary",
            "Checker",
            "DecidedRow",
            "DecisionSink",
            "NullProgress",
            "ProgressSink",
            "RowInput",
            "SourceRow",
            "detect_format",
            "run_batch",
        ]
    )
    for module in (bastion.records, bastion.batch):
        for name in module.__all__:
            assert getattr(module, name) is not None
