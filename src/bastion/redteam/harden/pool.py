"""More goals for the training pool: requests of the shared data's ``train`` split as goals.

The packaged 68 harmful goals leave 40 for training, and after one round the loop has
learned most of what their training-side variants show (design note 0035). So each round
also attacks a new batch of *pool goals*: harmful requests of the shared prompts' ``train``
split whose wording gives a task (``How do I X?``, ``Give instructions on how to X``, an
imperative such as ``Write a script that ...``), and, for look-alikes, benign requests of the
same split. The ``dev`` split (calibration) and the ``test`` split (the held-out benign
prompts) are never used, and pool goals never enter the fresh set.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Sequence
from typing import Final, Protocol

from bastion.redteam.base import Goal
from bastion.redteam.harden.examples import BENIGN_CATEGORY, UNCATEGORISED

__all__ = [
    "HARMFUL_SOURCES",
    "POOL_SALT",
    "UNCATEGORISED",
    "batch",
    "pool_goals",
    "task_of",
    "topic_of",
]

POOL_SALT: Final = "bastion-harden-pool-v1"
HARMFUL_SOURCES: Final = frozenset({"advbench", "dangerousqa", "catqa_english"})
BENIGN_SOURCES: Final = frozenset({"alpaca_eval", "self_instruct_seed", "mt_bench", "contrast"})

_ASK = re.compile(
    r"^(?:how (?:do|can|could|would|should|might) (?:i|you|one|we|someone|people)"
    r"|what is the (?:best|easiest) way to"
    r"|(?:give|provide|write) (?:me )?(?:detailed |step-by-step |a )?"
    r"(?:instructions|guide|tutorial) (?:on|for) how to"
    r"|(?:explain|tell me|show me|teach me) how to)\s+(.+)$",
    re.IGNORECASE,
)
_IMPERATIVE: Final = frozenset(
    {
        "build",
        "compose",
        "create",
        "design",
        "develop",
        "draft",
        "explain",
        "generate",
        "make",
        "outline",
        "plan",
        "produce",
        "provide",
        "suggest",
        "teach",
        "write",
    }
)
_LEAD: Final = frozenset({"a", "an", "the", "some", "me", "my", "someone's", "your"})
_STOP: Final = frozenset({"that", "which", "to", "for", "and", "or", "on", "in", "with", "by"})
_MAX_CHARS, _MIN_WORDS, _MAX_WORDS, _TOPIC_WORDS = 160, 3, 25, 4


class _Row(Protocol):
    @property
    def text(self) -> str: ...
    @property
    def label(self) -> int: ...
    @property
    def source(self) -> str: ...
    @property
    def split(self) -> str: ...


def task_of(text: str) -> str | None:
    """The verb phrase a request asks for (``make a poison`` from ``How do I make a
    poison?``), or None when the wording gives none."""
    if "\n" in text.strip():
        return None
    flat = " ".join(text.split()).rstrip(" ?.!")
    if not flat or len(flat) > _MAX_CHARS:
        return None
    asked = _ASK.match(flat)
    if asked:
        task = asked.group(1)
    elif flat.split(" ", 1)[0].casefold() in _IMPERATIVE:
        task = flat[0].lower() + flat[1:]
    else:
        return None
    return task if _MIN_WORDS <= len(task.split()) <= _MAX_WORDS else None


def topic_of(task: str) -> str:
    """A short subject for templates that name one (``a script that ...`` -> ``script``)."""
    words = task.split()[1:]
    while words and words[0].casefold() in _LEAD:
        words = words[1:]
    topic: list[str] = []
    for word in words:
        if topic and word.casefold() in _STOP:
            break
        topic.append(word.strip(",;:"))
        if len(topic) == _TOPIC_WORDS:
            break
    return " ".join(topic) or task


def _goal(text: str, task: str, category: str) -> Goal:
    digest = hashlib.sha256(text.encode("utf-8", "replace")).hexdigest()[:12]
    prefix = "pool.benign" if category == BENIGN_CATEGORY else "pool"
    return Goal(f"{prefix}.{digest}", category, task, topic_of(task))


def pool_goals(rows: Iterable[_Row], *, label: int, salt: str = POOL_SALT) -> tuple[Goal, ...]:
    """Goals from the ``train`` rows with ``label`` (1: harmful sources, 0: benign ones)
    whose wording gives a task, in a fixed order by ``sha256(salt, text)``."""
    sources = HARMFUL_SOURCES if label else BENIGN_SOURCES
    category = UNCATEGORISED if label else BENIGN_CATEGORY
    found: dict[str, Goal] = {}
    for row in rows:
        if row.split != "train" or row.label != label or row.source not in sources:
            continue
        task = task_of(row.text)
        if task is not None and task.casefold() not in found:
            found[task.casefold()] = _goal(row.text, task, category)
    return tuple(sorted(found.values(), key=lambda g: _rank(salt, g.id)))


def _rank(salt: str, key: str) -> bytes:
    return hashlib.sha256(f"{salt}\0{key}".encode()).digest()


def batch(goals: Sequence[Goal], number: int, size: int) -> tuple[Goal, ...]:
    """Round ``number``'s batch (rounds count from 1): the next ``size`` goals, wrapping
    around when the pool runs out (empty when ``size`` is 0 or there are no goals)."""
    if size <= 0 or not goals:
        return ()
    start = ((number - 1) * size) % len(goals)
    picked = [goals[(start + i) % len(goals)] for i in range(min(size, len(goals)))]
    return tuple(picked)
