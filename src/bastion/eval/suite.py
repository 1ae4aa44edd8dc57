"""The suite plugin kind: one small protocol, metadata as data, and shared helpers.

A suite measures one failure mode of a target and returns a
:class:`~bastion.eval.results.SuiteResult`. Suites are marked with :func:`suite_plugin`
(no side effect) and collected by :func:`bastion.eval.registry.build_suite_registry`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, TypeVar, runtime_checkable

from bastion.core.registry import PLUGIN_ATTR
from bastion.eval.target import Answer, Conversation, GuardTarget, Target

if TYPE_CHECKING:
    from bastion.eval.results import SuiteResult
    from bastion.policy import Policy

__all__ = [
    "TARGET_KINDS",
    "ProgressFn",
    "RunSettings",
    "Suite",
    "SuiteDeps",
    "SuitePlugin",
    "answer_all",
    "excerpt",
    "select",
    "suite_plugin",
    "target_kind",
]

TARGET_KINDS = ("guard", "assistant")
ProgressFn = Callable[[int, int], None]
"""Called with ``(done, total)`` as a suite's items are answered."""

_T = TypeVar("_T")
_EXCERPT = 160


@dataclass(frozen=True, slots=True)
class RunSettings:
    """How a run is made.

    Attributes:
        shared_data: the shared data folder (held-out prompts live there).
        limit: at most this many items per suite (a fixed, hash-ordered sample); None: all.
        seed: seed of every bootstrap interval.
    """

    shared_data: Path = Path("../shared/data")
    limit: int | None = None
    seed: int = 0


@dataclass(frozen=True, slots=True)
class SuiteDeps:
    """What a suite factory receives: the policy the target is judged by, the settings,
    and a progress callback."""

    policy: Policy
    settings: RunSettings
    progress: ProgressFn | None = None


@runtime_checkable
class Suite(Protocol):
    """Measures one failure mode of a target."""

    def run(self, target: Target) -> SuiteResult:
        """Ask the target every item and score the answers. Never raises for a bad item."""
        ...


@dataclass(frozen=True, slots=True)
class SuitePlugin:
    """Registry entry for a suite: metadata as data plus a factory.

    Attributes:
        name: registered name (``--suite NAME``).
        description: one line a user sees in listings (the class's first docstring line).
        targets: target kinds it applies to (``guard``, ``assistant``).
        tags: failure mode and data tags.
        references: where the method or data comes from.
        build: factory ``(deps) -> Suite``.
    """

    name: str
    description: str
    targets: tuple[str, ...]
    tags: tuple[str, ...]
    references: tuple[str, ...]
    build: Callable[[SuiteDeps], Suite]


_S = TypeVar("_S", bound=Suite)


def suite_plugin(
    *,
    name: str,
    targets: tuple[str, ...] = TARGET_KINDS,
    tags: tuple[str, ...] = (),
    references: tuple[str, ...] = (),
) -> Callable[[type[_S]], type[_S]]:
    """Mark a suite class (built as ``cls(deps)``) as a plugin; no side effect."""

    def mark(cls: type[_S]) -> type[_S]:
        doc = (cls.__doc__ or "").strip().splitlines()
        entry = SuitePlugin(
            name=name,
            description=doc[0] if doc else "",
            targets=targets,
            tags=tags,
            references=references,
            build=cls,
        )
        setattr(cls, PLUGIN_ATTR, entry)
        return cls

    return mark


def target_kind(target: Target) -> str:
    """``guard`` for the guard alone, ``assistant`` for anything that replies (a wrapper
    such as a recording target is looked through via its ``inner`` target)."""
    inner = getattr(target, "inner", target)
    return "guard" if isinstance(inner, GuardTarget) else "assistant"


def select(items: Sequence[_T], limit: int | None, key: Callable[[_T], str]) -> list[_T]:
    """All ``items``, or a fixed sample of ``limit`` (ordered by sha256 of ``key``) that
    spreads over categories instead of taking the file's first rows."""
    if limit is None or limit >= len(items):
        return list(items)
    ranked = sorted(items, key=lambda item: hashlib.sha256(key(item).encode()).hexdigest())
    return ranked[: max(limit, 0)]


def answer_all(
    target: Target, conversations: Sequence[Conversation], progress: ProgressFn | None
) -> list[Answer]:
    """The target's answer to each conversation, reporting progress as it goes."""
    answers: list[Answer] = []
    total = len(conversations)
    for index, conversation in enumerate(conversations, start=1):
        answers.append(target.answer(conversation))
        if progress is not None:
            progress(index, total)
    return answers


def excerpt(text: str) -> str:
    """A one-line excerpt of ``text`` for reports."""
    line = " ".join(text.split())
    return line if len(line) <= _EXCERPT else line[: _EXCERPT - 1] + "…"
