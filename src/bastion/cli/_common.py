"""Helpers every command shares: clean one-line errors, safe printing, building the guard."""

from __future__ import annotations

import functools
import json
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn, ParamSpec, TypeVar

import typer

from bastion.core.errors import BastionError

if TYPE_CHECKING:
    from rich.console import Console

    from bastion.guard import Guard

__all__ = [
    "DEFAULT_SHARED_DATA",
    "ArtifactOut",
    "Seed",
    "SharedData",
    "build_guard",
    "clean_errors",
    "exit_on_problems",
    "json_text",
    "printable",
    "stdout_console",
]

# Options every `bastion train ...` command takes.
ArtifactOut = Annotated[
    Path | None, typer.Option(help="Artifact folder (default: the packaged one).")
]
SharedData = Annotated[Path, typer.Option(help="The shared data folder.")]
Seed = Annotated[int, typer.Option(help="Random seed.")]
DEFAULT_SHARED_DATA = Path("../shared/data")

# Tables written to a pipe or a file get this width instead of rich's 80 columns.
_PIPE_WIDTH = 120

P = ParamSpec("P")
R = TypeVar("R")


def clean_errors(command: Callable[P, R]) -> Callable[P, R]:
    """Turn any :class:`BastionError` into ``error: ...`` on stderr and exit code 1.

    Users get one readable line, never a traceback, for a missing file, a bad policy or a
    bad batch line. (Usage mistakes stay typer's, with exit code 2.)
    """

    @functools.wraps(command)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return command(*args, **kwargs)
        except BastionError as exc:
            _fail(str(exc), code=1)
        except KeyboardInterrupt:
            _fail("interrupted", code=130)

    return run


def exit_on_problems(problems: Sequence[object], ok: str) -> None:
    """Print each problem on stderr and exit 1; with none, print ``ok``."""
    for problem in problems:
        typer.echo(str(problem), err=True)
    if problems:
        raise typer.Exit(1)
    typer.echo(ok)


def _fail(message: str, *, code: int) -> NoReturn:
    line = " ".join(printable(message).split())
    sys.stderr.write(f"error: {line}\n")
    sys.stderr.flush()
    raise typer.Exit(code)


def printable(text: str) -> str:
    """``text`` safe to write to a UTF-8 stream.

    Command-line arguments that were not valid UTF-8 arrive as lone surrogates; writing
    those would raise, so they are shown as ``\\udcXX`` escapes instead.
    """
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def stdout_console() -> Console:
    """A rich console on stdout; wider than 80 columns when stdout is not a terminal."""
    from rich.console import Console

    console = Console()
    return console if console.is_terminal else Console(width=_PIPE_WIDTH)


def json_text(value: Any) -> str:
    """Indented JSON, non-ASCII kept readable, lone surrogates as JSON escapes."""
    return printable(json.dumps(value, ensure_ascii=False, indent=2, default=str))


def build_guard(config_file: Path | None, policy: Path | None, context: str | None = None) -> Guard:
    """The guard for a command: defaults < config file < environment < flags.

    This is the one place bastion reads the environment (``BASTION_*``).

    Raises:
        ConfigError: the configuration, the policy or the context is unusable.
    """
    from bastion.guard import Guard, load_config  # the guard is the slow import

    overrides = {"policy": policy, "context": context}
    config = load_config(config_file, environ=os.environ, overrides=overrides)
    guard = Guard.from_config(config)
    from bastion.policy.loader import migration_notice

    notice = migration_notice(guard.policy, str(config.policy or "policy"))
    if notice:
        typer.echo(f"note: {notice}", err=True)
    return guard
