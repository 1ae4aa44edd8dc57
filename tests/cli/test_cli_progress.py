"""The rich progress bar follows a batch run's bytes; off a terminal there is none."""

from __future__ import annotations

import io
import json
from pathlib import Path

from rich.console import Console
from rich.progress import Progress

from bastion.batch import ProgressSink, run_batch
from bastion.cli.progress import RichProgressSink, terminal_progress
from bastion.core.registry import Registry
from bastion.guard import Guard, GuardConfig
from bastion.guard.layers.base import LayerPlugin


def test_rich_sink_reaches_the_file_size(
    fake_registry: Registry[LayerPlugin], tmp_path: Path
) -> None:
    source = tmp_path / "in.jsonl"
    source.write_text("".join(json.dumps({"text": f"row {i}"}) + "\n" for i in range(50)))
    guard = Guard.from_policy(config=GuardConfig(layers=[]), registry=fake_registry)
    console = Console(file=io.StringIO(), force_terminal=True, width=100)
    with Progress(console=console) as progress:
        task = progress.add_task("checking", total=None)
        sink = RichProgressSink(progress, task)
        assert isinstance(sink, ProgressSink)
        run_batch(guard, source, tmp_path / "out.jsonl", progress=sink)
        state = progress.tasks[0]
        assert state.total == state.completed == source.stat().st_size


def test_no_bar_off_a_terminal() -> None:
    # Under pytest stderr is captured, not a terminal.
    with terminal_progress("checking") as sink:
        assert sink is None
