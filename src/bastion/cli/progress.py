"""A rich progress bar (by bytes read) for batch runs, shown only on a terminal."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.progress import Progress, TaskID

    from bastion.batch import ProgressSink

__all__ = ["RichProgressSink", "terminal_progress"]


class RichProgressSink:
    """Feeds a batch run's byte counts to one task of a rich ``Progress``."""

    def __init__(self, progress: Progress, task: TaskID) -> None:
        self._progress = progress
        self._task = task

    def set_total(self, n_bytes: int) -> None:
        """Set the bar's total."""
        self._progress.update(self._task, total=n_bytes)

    def advance(self, n_bytes: int) -> None:
        """Move the bar."""
        self._progress.advance(self._task, n_bytes)


@contextlib.contextmanager
def terminal_progress(label: str) -> Iterator[ProgressSink | None]:
    """A progress sink drawing on stderr when it is a terminal; None otherwise.

    Pipes, files and CI logs get no bar: redrawn bars there are noise.
    """
    from rich.console import Console

    console = Console(stderr=True)
    if not console.is_terminal:
        yield None
        return
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
        TransferSpeedColumn,
    )

    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=console) as progress:
        yield RichProgressSink(progress, progress.add_task(label, total=None))
