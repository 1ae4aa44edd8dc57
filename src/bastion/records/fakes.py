"""Deterministic stand-ins for the record clock and id factory, for tests and demos."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

__all__ = ["FakeClock", "SequentialIds"]


class FakeClock:
    """A clock that starts at ``start`` and moves ``step`` forward on every reading.

    Example:
        >>> clock = FakeClock()
        >>> clock().isoformat()
        '2025-01-01T00:00:00+00:00'
        >>> clock().isoformat()
        '2025-01-01T00:00:01+00:00'
    """

    def __init__(
        self,
        start: datetime = datetime(2025, 1, 1, tzinfo=UTC),
        *,
        step: timedelta = timedelta(seconds=1),
    ) -> None:
        self._now = start
        self._step = step

    def __call__(self) -> datetime:
        now = self._now
        self._now += self._step
        return now

    def advance(self, delta: timedelta) -> None:
        """Jump forward by ``delta`` without a reading."""
        self._now += delta


class SequentialIds:
    """Ids ``000...001``, ``000...002``, ... (32 hex digits, like a uuid4 hex)."""

    def __init__(self) -> None:
        self._count = 0

    def __call__(self) -> str:
        self._count += 1
        return f"{self._count:032x}"
