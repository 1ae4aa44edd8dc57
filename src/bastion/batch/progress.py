"""How a batch run reports progress: bytes of input read, out of a total."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

__all__ = ["NullProgress", "ProgressSink"]


@runtime_checkable
class ProgressSink(Protocol):
    """Receives progress as bytes of input consumed.

    The CLI plugs a rich progress bar in; tests plug
    :class:`bastion.batch.fakes.RecordingProgress`.
    """

    def set_total(self, n_bytes: int) -> None:
        """The input's size in bytes, called once before any ``advance``."""
        ...

    def advance(self, n_bytes: int) -> None:
        """``n_bytes`` more of the input were read."""
        ...


class NullProgress:
    """Discards progress."""

    def set_total(self, n_bytes: int) -> None:
        """Ignore the total."""

    def advance(self, n_bytes: int) -> None:
        """Ignore progress."""
