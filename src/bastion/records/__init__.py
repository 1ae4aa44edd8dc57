"""One append-only, versioned record format for everything bastion writes down.

Guard decisions, red-team findings, eval results and review decisions share one envelope
and one file format: JSON Lines, one UTF-8 JSON object per line, only ever appended to::

    {"schema":"bastion.record","version":1,"kind":"guard_decision",
     "id":"3f2b...","created_at":"2025-01-01T00:00:00Z","supersedes":null,
     "producer":"bastion 0.1.0","payload":{...}}

(one line in the file; wrapped here). Fields:

- ``schema``: always ``"bastion.record"``; tells a record line from any other JSON.
- ``version``: envelope version, currently :data:`RECORD_VERSION`. A reader refuses a
  line with a newer version (``RecordError``: "written by a newer bastion") rather than
  guess at it.
- ``kind``: ``guard_decision`` | ``redteam_finding`` | ``eval_result`` |
  ``review_decision`` | ``curation_report``; it says what ``payload`` holds.
- ``id``: unique id, uuid4 hex by default.
- ``created_at``: ISO 8601 in UTC (``Z``); naive or other-offset times are rejected.
- ``supersedes``: the ``id`` this record replaces, or null. Records are never edited in
  place: a human correction is a new record pointing at the old one
  (see :func:`latest_records`).
- ``producer``: what wrote the record, e.g. ``bastion 0.1.0``.
- ``payload``: the kind-specific content. For ``guard_decision``:
  ``{"input": {"turns", "chars", "sha256", "last_user", "response", "source"?},
  "decision": Decision.to_dict()}``.

Writing goes through :class:`RecordWriter` (append mode, one write per line, flushed each
time, optional fsync); reading through :func:`read_records`, which streams and names the
``path:line`` of a bad line. The clock and id factory are injected; :mod:`bastion.records.fakes`
ships deterministic ones. See ``docs/records.md`` for a full example.
"""

from bastion.records.decision import decision_record, input_summary
from bastion.records.io import RecordWriter, latest_records, read_records, record_line
from bastion.records.model import (
    RECORD_SCHEMA,
    RECORD_VERSION,
    Clock,
    Record,
    RecordKind,
    default_producer,
    new_id,
    new_record,
    utc_now,
)

__all__ = [
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
