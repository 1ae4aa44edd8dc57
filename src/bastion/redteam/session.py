"""A run folder: ``findings.jsonl`` (records), ``run.json`` (what was run), resumption.

A folder holds one run. Starting a run in a folder that already has findings is an error
unless it resumes: then the run id and target are taken from ``run.json`` and every
(attack, goal) pair already judged without error is skipped.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bastion.core.errors import ConfigError, RecordError
from bastion.records import Clock, RecordWriter, new_id
from bastion.redteam.findings import Finding, finding_record, read_findings

__all__ = ["FINDINGS_FILE", "RUN_FILE", "FindingSink", "RunFolder"]

FINDINGS_FILE = "findings.jsonl"
RUN_FILE = "run.json"


@dataclass(frozen=True, slots=True)
class RunFolder:
    """The files of one run.

    Attributes:
        path: the folder.
        run_id: the run's id (kept across resumes).
        done: ``(attack, goal_id)`` pairs already judged without error.
    """

    path: Path
    run_id: str
    done: frozenset[tuple[str, str]]

    @property
    def findings(self) -> Path:
        """The records file."""
        return self.path / FINDINGS_FILE

    @classmethod
    def open(cls, path: Path, *, target: str, resume: bool, meta: dict[str, Any]) -> RunFolder:
        """Start (or, with ``resume``, continue) the run in ``path``.

        Raises:
            ConfigError: findings exist and ``resume`` is off, or the resumed run was
                against another target.
            RecordError: the folder cannot be written or its findings cannot be read.
        """
        findings = path / FINDINGS_FILE
        has_findings = findings.is_file() and findings.stat().st_size > 0
        if has_findings and not resume:
            raise ConfigError(f"{path} already holds a run; pass --resume or another --out")
        previous = _read_meta(path / RUN_FILE) if resume else {}
        if previous and previous.get("target") != target:
            raise ConfigError(
                f"{path} holds a run against {previous.get('target')!r}, not {target!r}"
            )
        run_id = str(previous.get("run_id") or new_id())
        done = (
            frozenset(f.key for f in read_findings(findings) if f.error is None)
            if has_findings
            else frozenset()
        )
        _write_meta(path, {**meta, "run_id": run_id, "target": target})
        return cls(path, run_id, done)


def _read_meta(file: Path) -> dict[str, Any]:
    if not file.is_file():
        return {}
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise RecordError(f"{file}: cannot read: {exc}") from None
    return data if isinstance(data, dict) else {}


def _write_meta(folder: Path, data: dict[str, Any]) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
        text = json.dumps(data, ensure_ascii=False, indent=2, default=str)
        (folder / RUN_FILE).write_text(text + "\n", encoding="utf-8")
    except OSError as exc:
        raise RecordError(f"{folder}: cannot write {RUN_FILE}: {exc}") from None


class FindingSink:
    """Appends each finding as a record to a run's ``findings.jsonl``."""

    def __init__(self, writer: RecordWriter, clock: Clock) -> None:
        self._writer, self._clock = writer, clock
        self.count = 0
        self.successes = 0

    def __call__(self, finding: Finding) -> None:
        """Write one finding."""
        self._writer.write(finding_record(finding, clock=self._clock))
        self.count += 1
        self.successes += finding.success
