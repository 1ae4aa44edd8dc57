"""Write an output file all-or-nothing: a temporary sibling, renamed on success."""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Iterator
from pathlib import Path

from bastion.core.errors import InputError

__all__ = ["atomic_output"]


@contextlib.contextmanager
def atomic_output(dest: Path) -> Iterator[Path]:
    """Yield a temporary path beside ``dest``; on success it replaces ``dest`` atomically.

    The temporary file lives in the destination folder so the final ``os.replace`` is a
    rename within one filesystem (atomic on POSIX and Windows). On any failure, including
    ``KeyboardInterrupt``, the temporary file is removed and ``dest`` is left untouched.

    Raises:
        InputError: the destination folder does not exist or is not writable.
    """
    folder = dest.parent if str(dest.parent) else Path(".")
    if not folder.is_dir():
        raise InputError(f"{dest}: output folder {folder} does not exist")
    tmp = folder / f".{dest.name}.{secrets.token_hex(6)}.tmp"
    try:
        # O_EXCL: never reuse a file; mode 0o666 minus the umask, like any new file
        # (mkstemp would leave the output readable by its owner only).
        os.close(os.open(tmp, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o666))
    except OSError as exc:
        raise InputError(f"{dest}: cannot create output: {exc}") from None
    try:
        yield tmp
        _fsync(tmp)
        os.replace(tmp, dest)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _fsync(path: Path) -> None:
    # Data must be on disk before the rename, or a crash could leave an empty dest.
    with path.open("rb+") as stream:
        os.fsync(stream.fileno())
