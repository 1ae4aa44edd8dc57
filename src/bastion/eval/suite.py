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
        limit: at most this many items per suite; None: all.
        seed: seed of the bootstrap intervals (statistics that are not proportions; rates
            get Wilson intervals, which need none).
        sample_seed: None: ``limit`` takes the items first in sha256 order of their ids
            (fixed, unseeded); an integer: ``limit`` draws a sample stratified by each
            suite's own stratum (category, source, behaviour...) with this seed (see
            :func:`select`).
    """

    shared_data: Path = Path("../shared/data")
    limit: int | None = None
    seed: int = 0
    sample_seed: int | None = None


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


def select(
    items: Sequence[_T],
    limit: int | None,
    key: Callable[[_T], str],
    *,
    stratum: Callable[[_T], str] | None = None,
    seed: int | None = None,
) -> list[_T]:
    """All ``items``, or a sample of ``limit`` of them, in their original order.

    Without ``seed`` (or without ``stratum``): the ``limit`` items first in sha256 order of
    ``key``, a fixed sample that spreads over categories instead of taking the file's
    first rows. With both: a stratified sample; each stratum gets its proportional share
    of ``limit`` (largest remainder), at least one item when ``limit`` covers every
    stratum, and within a stratum the items first in sha256 order of ``"seed:key"``.
    """
    if limit is None or limit >= len(items):
        return list(items)
    limit = max(limit, 0)
    if seed is None or stratum is None:
        ranked = sorted(items, key=lambda item: _rank(key(item)))
        return ranked[:limit]
    strata: dict[str, list[int]] = {}
    for index, item in enumerate(items):
        strata.setdefault(stratum(item), []).append(index)
    quotas = _allocate({name: len(group) for name, group in sorted(strata.items())}, limit)
    chosen: set[int] = set()
    for name, group in strata.items():
        order = sorted(group, key=lambda index: _rank(f"{seed}:{key(items[index])}"))
        chosen.update(order[: quotas[name]])
    return [item for index, item in enumerate(items) if index in chosen]


def _rank(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _allocate(sizes: dict[str, int], limit: int) -> dict[str, int]:
    """Share ``limit`` (< the total) between strata in proportion to their ``sizes``:
    floors, then the largest remainders; every stratum gets one first when ``limit``
    allows it."""
    total = sum(sizes.values())
    floor_one = limit >= len(sizes)
    base = {name: 1 if floor_one else 0 for name in sizes}
    left = limit - sum(base.values())
    rest = {name: size - base[name] for name, size in sizes.items()}
    rest_total = total - sum(base.values())
    exact = {name: left * rest[name] / rest_total if rest_total else 0.0 for name in sizes}
    quotas = {name: base[name] + int(exact[name]) for name in sizes}
    remaining = limit - sum(quotas.values())
    by_remainder = sorted(sizes, key=lambda name: (-(exact[name] - int(exact[name])), name))
    for name in by_remainder[:remaining]:
        quotas[name] += 1
    return quotas


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
