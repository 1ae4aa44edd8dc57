"""The record envelope: one frozen, versioned model for every kind of record."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from functools import cache
from importlib.metadata import PackageNotFoundError, version
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from bastion.core.errors import RecordError

__all__ = [
    "RECORD_SCHEMA",
    "RECORD_VERSION",
    "Clock",
    "Record",
    "RecordKind",
    "default_producer",
    "describe_validation",
    "new_id",
    "new_record",
    "utc_now",
]

RECORD_SCHEMA = "bastion.record"
RECORD_VERSION = 1
_ID_PATTERN = r"^[A-Za-z0-9_.:-]{1,128}$"

Clock = Callable[[], datetime]


class RecordKind(StrEnum):
    """What a record's payload holds."""

    GUARD_DECISION = "guard_decision"
    REDTEAM_FINDING = "redteam_finding"
    EVAL_RESULT = "eval_result"
    REVIEW_DECISION = "review_decision"
    CURATION_REPORT = "curation_report"


class Record(BaseModel):
    """One line of a records file.

    Attributes:
        schema_: always ``bastion.record`` (serialised as ``schema``).
        version: version of the envelope; readers refuse versions newer than theirs.
        kind: what the payload holds.
        id: unique id (uuid4 hex by default).
        created_at: when the record was made, timezone-aware UTC.
        supersedes: id of the record this one replaces (human edits), or None.
        producer: what wrote it, e.g. ``bastion 0.1.0``.
        payload: the kind-specific content, JSON-ready.
    """

    model_config = ConfigDict(
        frozen=True,
        extra="forbid",
        validate_by_name=True,
        validate_by_alias=True,
        serialize_by_alias=True,
    )

    # ``schema`` itself would shadow a BaseModel attribute, hence the alias.
    schema_: Literal["bastion.record"] = Field(default="bastion.record", alias="schema")
    version: int = Field(default=RECORD_VERSION, ge=1)
    kind: RecordKind
    id: str = Field(pattern=_ID_PATTERN)
    created_at: datetime
    supersedes: str | None = Field(default=None, pattern=_ID_PATTERN)
    producer: str = Field(min_length=1)
    payload: dict[str, Any]

    @field_validator("version")
    @classmethod
    def _known_version(cls, value: int) -> int:
        if value > RECORD_VERSION:
            raise ValueError(
                f"record version {value} was written by a newer bastion "
                f"(this one reads up to {RECORD_VERSION})"
            )
        return value

    @field_validator("created_at")
    @classmethod
    def _utc(cls, value: datetime) -> datetime:
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError("created_at must be timezone-aware UTC")
        if value.utcoffset() != timedelta(0):
            raise ValueError("created_at must be in UTC")
        return value.astimezone(UTC)

    @model_validator(mode="after")
    def _not_self(self) -> Record:
        if self.supersedes == self.id:
            raise ValueError("a record cannot supersede itself")
        return self


def utc_now() -> datetime:
    """The real clock: the current time in UTC."""
    return datetime.now(UTC)


def new_id() -> str:
    """A fresh record id: uuid4 as 32 hex digits."""
    return uuid.uuid4().hex


@cache
def default_producer() -> str:
    """``bastion <installed version>``, read once from the package metadata."""
    try:
        return f"bastion {version('bastion')}"
    except PackageNotFoundError:  # running from a source tree that was never installed
        return "bastion unknown"


def new_record(
    kind: RecordKind | str,
    payload: Mapping[str, Any],
    *,
    clock: Clock,
    supersedes: str | None = None,
    id_factory: Callable[[], str] = new_id,
    producer: str | None = None,
) -> Record:
    """Make a record of ``kind`` around ``payload``.

    Args:
        kind: what the payload holds.
        payload: kind-specific, JSON-ready content.
        clock: returns the current UTC time (inject a ``FakeClock`` in tests).
        supersedes: id of the record this one replaces; a human edit is a new record.
        id_factory: makes the record's id.
        producer: who wrote it; defaults to ``bastion <version>``.

    Raises:
        RecordError: a field is invalid (an unknown kind, a naive or non-UTC timestamp).
    """
    try:
        return Record(
            kind=kind,
            id=id_factory(),
            created_at=clock(),
            supersedes=supersedes,
            producer=producer or default_producer(),
            payload=dict(payload),
        )
    except ValidationError as exc:
        raise RecordError(f"invalid record: {describe_validation(exc)}") from None


def describe_validation(exc: ValidationError) -> str:
    """One line naming the first problems of a validation error."""
    parts = []
    for err in exc.errors()[:3]:
        where = ".".join(str(p) for p in err["loc"]) or "record"
        parts.append(f"{where}: {err['msg'].removeprefix('Value error, ')}")
    return "; ".join(parts)
