"""Fakes for batch runs: a progress sink that remembers what it was told."""

from __future__ import annotations

__all__ = ["RecordingProgress"]


class RecordingProgress:
    """A :class:`~bastion.batch.progress.ProgressSink` that records every call."""

    def __init__(self) -> None:
        self.total: int | None = None
        self.done = 0
        self.advances: list[int] = []

    def set_total(self, n_bytes: int) -> None:
        """Remember the total."""
        self.total = n_bytes

    def advance(self, n_bytes: int) -> None:
        """Add to the bytes done."""
        self.done += n_bytes
        self.advances.append(n_bytes)
