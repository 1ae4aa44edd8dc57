"""One published red-team run: a run folder's report, benign pass and settings in one JSON.

``bastion docs add-run RUN_DIR NAME --label L`` writes ``docs/results/redteam/NAME.json``
from ``RUN_DIR/report.json``, ``run.json`` and (when present) ``benign.json``, so the docs
tables render from what the run wrote, not from numbers copied by hand.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Final

from bastion.core.errors import InputError

__all__ = ["RUN_FORMAT", "published_run", "write_published_run"]

RUN_FORMAT: Final = "bastion.published_run/1"


def _read(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InputError(f"{path}: cannot read: {exc}") from None


def published_run(run_dir: Path, label: str) -> dict[str, Any]:
    """The JSON of one published run.

    Raises:
        InputError: the folder has no readable ``report.json`` or ``run.json``.
    """
    report, meta = _read(run_dir / "report.json"), _read(run_dir / "run.json")
    benign = _read(run_dir / "benign.json") if (run_dir / "benign.json").is_file() else None
    if isinstance(benign, dict):
        benign = {"benign_pass": benign.get("benign_pass")}  # not the refused prompts
    report = {k: v for k, v in report.items() if k != "examples"}  # transcripts stay out
    judge = report.get("judge") or {"name": meta.get("judge"), "independent": None}
    return {
        "format": RUN_FORMAT,
        "label": label,
        "target": meta.get("target"),
        "split": meta.get("split", "all"),
        "settings": {k: v for k, v in meta.items() if k not in ("run_id", "target")},
        "judge": judge,
        "report": report,
        "benign": benign,
    }


def write_published_run(run_dir: Path, out: Path, label: str) -> Path:
    """Write :func:`published_run` to ``out``."""
    out.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(published_run(run_dir, label), indent=1, ensure_ascii=False, sort_keys=True)
    out.write_text(text + "\n", encoding="utf-8")
    return out
