"""What every training run records about itself: library versions and its metadata file."""

from __future__ import annotations

import json
import platform
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

__all__ = ["versions", "write_metadata"]

_CORE = ("bastion", "numpy", "scikit-learn", "onnxruntime", "tokenizers")


def versions(*extra: str) -> dict[str, str]:
    """Python and the versions of the libraries a model depends on (``absent`` if missing)."""
    out = {"python": platform.python_version()}
    for name in (*_CORE, *extra):
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = "absent"
    return out


def write_metadata(path: Path, metadata: dict[str, Any]) -> None:
    """Write ``metadata`` as stable, sorted, indented JSON (diffs stay readable)."""
    path.write_text(json.dumps(metadata, indent=2, sort_keys=True) + "\n", encoding="utf-8")
