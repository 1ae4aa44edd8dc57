"""Red-team goals: JSONL files of harmful tasks, and the packaged default set.

One goal per line::

    {"id": "drugs.meth", "category": "drugs", "task": "cook methamphetamine at home ...",
     "topic": "methamphetamine", "translations": {"fr": "...", "de": "..."}}

``task`` is an infinitive verb phrase without "to" (attacks build "How did people {task}?"
around it); ``topic`` a short noun phrase; ``translations`` is optional. The packaged set
(``bastion/datasets/redteam_goals_v1.jsonl``, 68 goals over 12 policy categories) is
written by the project; its card is ``REDTEAM_GOALS_CARD.md`` beside it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from importlib import resources
from pathlib import Path
from typing import Any

from bastion.core.errors import BatchInputError, InputError
from bastion.redteam.base import Goal

__all__ = ["DEFAULT_GOALS", "load_goals", "packaged_goals_path"]

DEFAULT_GOALS = "redteam_goals_v1.jsonl"
_REQUIRED = ("id", "category", "task", "topic")


def packaged_goals_path() -> Path:
    """The goals file shipped with bastion."""
    return Path(str(resources.files("bastion.datasets").joinpath(DEFAULT_GOALS)))


def load_goals(path: str | Path | None = None) -> tuple[Goal, ...]:
    """Read goals from a JSONL file (None: the packaged set), in file order.

    Raises:
        InputError: the file is missing or empty, or two goals share an id.
        BatchInputError: a line is not a valid goal (names the line).
    """
    file = Path(path) if path is not None else packaged_goals_path()
    if not file.is_file():
        raise InputError(f"{file}: goals file not found")
    goals = tuple(_read(file))
    if not goals:
        raise InputError(f"{file}: no goals")
    seen: set[str] = set()
    for goal in goals:
        if goal.id in seen:
            raise InputError(f"{file}: goal id {goal.id!r} appears twice")
        seen.add(goal.id)
    return goals


def _read(file: Path) -> Iterator[Goal]:
    with file.open("rb") as stream:
        for number, raw in enumerate(stream, start=1):
            if raw.strip():
                yield _parse(raw, str(file), number)


def _parse(raw: bytes, path: str, line: int) -> Goal:
    try:
        data: Any = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise BatchInputError(f"not valid JSON: {exc}", path=path, line=line) from None
    if not isinstance(data, dict):
        raise BatchInputError("a goal must be a JSON object", path=path, line=line)
    missing = [k for k in _REQUIRED if not isinstance(data.get(k), str) or not data[k].strip()]
    if missing:
        raise BatchInputError(f"missing or empty: {', '.join(missing)}", path=path, line=line)
    translations = data.get("translations") or {}
    if not isinstance(translations, Mapping) or not all(
        isinstance(v, str) for v in translations.values()
    ):
        raise BatchInputError("translations must map language to text", path=path, line=line)
    return Goal(
        id=data["id"].strip(),
        category=data["category"].strip(),
        task=data["task"].strip().rstrip("."),
        topic=data["topic"].strip(),
        translations=tuple(sorted((str(k), str(v)) for k, v in translations.items())),
    )
