"""Judges scored against human labels: GPTFuzz's labelled jailbreak replies and pyrit's
labelled refusal and harm sets.

- **gptfuzz_dev**: GPTFuzz's hand-labelled replies (``responses/labelled_responses.jsonl``
  in the shared data, :func:`load_gptfuzz`), split ``dev`` (split by question; the
  reference judge trains on ``train`` only). Positive = ``harmful``: the jailbreak worked,
  the reply is harmful compliance. No guard layer trains on this file.

Two tasks from the CSVs pyrit ships under ``datasets/scorer_evals`` (read through
:mod:`bastion.training.response_data`, which also documents the label mapping):

- **refusal**: ``refusal_scorer`` (plus ``sample/mini_refusal.csv``), human score 1 =
  the reply declines. Held out whole from the response classifier's training (split
  ``ood``). A judge's reading: the keyword judge's refusal phrases; the response
  classifier's ``response_kind == "refusal"``.
- **harm**: ``harm`` and ``objective`` rows with a clear human harm label, **test split
  only** (``sha256(prompt)`` bucket, as in training: the response classifier was fitted
  on train and tuned on dev). Positive = the reply is harmful compliance, i.e. what a
  judge calls a successful attack.

Each judge gets precision, recall and F1 on the positive class, raw agreement with the
humans and Cohen's kappa. A slow judge (the LLM judge) may be scored on a fixed
:func:`hash_sample` of a task, with the other judges scored on the same rows beside it.
:func:`agreement_document` is the ``judges.json`` these figures are published as
(``bastion redteam judges --out docs/results``).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from bastion.core.errors import ConfigError, JudgeError
from bastion.redteam.base import Probe, looks_refused
from bastion.redteam.judges import Judge
from bastion.redteam.targets import TargetReply

__all__ = [
    "AGREEMENT_FORMAT",
    "GPTFUZZ_FILE",
    "TASKS",
    "JudgeScore",
    "LabelledReply",
    "agreement_document",
    "hash_sample",
    "load_gptfuzz",
    "load_labelled",
    "score",
    "score_judges",
]

GPTFUZZ_FILE: Final = "responses/labelled_responses.jsonl"
"""GPTFuzz's human-labelled replies, relative to the shared data folder."""
AGREEMENT_FORMAT: Final = "bastion.judge_agreement/1"
TASKS: Final = {
    "gptfuzz_dev": "GPTFuzz hand-labelled jailbreak replies, dev split (by question); "
    "positive = harmful compliance",
    "harm": "pyrit harm + objective rows with a clear human harm label, test bucket; "
    "positive = harmful compliance",
    "refusal": "pyrit refusal_scorer sets (held out from the response classifier); "
    "positive = the reply declines",
}
"""What each task scores, for the published figures."""


@dataclass(frozen=True, slots=True)
class LabelledReply:
    """A prompt, a reply and the human label (1 = the task's positive class)."""

    prompt: str
    reply: str
    label: int


@dataclass(frozen=True, slots=True)
class JudgeScore:
    """One judge on one task: the confusion counts and what follows from them."""

    judge: str
    task: str
    tp: int
    fp: int
    fn: int
    tn: int

    @property
    def n(self) -> int:
        """Rows scored."""
        return self.tp + self.fp + self.fn + self.tn

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready, with precision, recall, F1, agreement and Cohen's kappa."""
        p = self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0
        r = self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0
        f1 = 2 * p * r / (p + r) if p + r else 0.0
        n = self.n or 1
        agree = (self.tp + self.tn) / n
        pos_h, pos_j = (self.tp + self.fn) / n, (self.tp + self.fp) / n
        chance = pos_h * pos_j + (1 - pos_h) * (1 - pos_j)
        kappa = (agree - chance) / (1 - chance) if chance < 1 else 0.0
        counts = {"tp": self.tp, "fp": self.fp, "fn": self.fn, "tn": self.tn}
        rates = {"precision": p, "recall": r, "f1": f1, "agreement": agree, "kappa": kappa}
        return {
            "judge": self.judge,
            "task": self.task,
            "n": self.n,
            **counts,
            **{k: round(v, 4) for k, v in rates.items()},
        }


Reader = Callable[[str, str], bool]
"""``reader(prompt, reply)``: the judge's positive call for the task."""


def load_labelled(evals: Path | None = None) -> dict[str, list[LabelledReply]]:
    """The two tasks' rows (see the module docstring).

    Raises:
        ConfigError: pyrit is not installed (``pip install --no-deps -r
            requirements/training-data.txt``).
    """
    from bastion.training.data import bucket
    from bastion.training.response_data import load_pyrit, pyrit_root

    root = evals or pyrit_root()
    if root is None:
        raise ConfigError("pyrit is not installed: its human-labelled responses are missing")
    rows = load_pyrit(root)
    refusal = [
        LabelledReply(e.prompt, e.text, int(e.kind != "compliance"))
        for e in rows
        if e.source == "pyrit_refusal"
    ]
    harm = [
        LabelledReply(e.prompt, e.text, int(e.harmful))
        for e in rows
        if e.source in ("pyrit_harm", "pyrit_objective")
        and e.harmful is not None
        and bucket(e.prompt) == "test"
    ]
    return {"refusal": refusal, "harm": harm}


def load_gptfuzz(path: Path, split: str) -> list[LabelledReply]:
    """GPTFuzz's labelled replies of ``split`` (``train`` | ``dev``), in file order; label 1 =
    ``harmful``. A repeated ``(prompt, reply)`` pair is kept once; a pair labelled both ways
    is dropped.

    Raises:
        ConfigError: the file is missing or holds a bad line.
    """
    labels: dict[tuple[str, str], set[int]] = {}
    try:
        with path.open(encoding="utf-8") as handle:
            for line in handle:
                if not line.strip():
                    continue
                row = json.loads(line)
                if row["split"] == split:
                    key = (str(row["prompt"]), str(row["text"]))
                    labels.setdefault(key, set()).add(int(row["label"] == "harmful"))
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ConfigError(f"{path}: cannot read GPTFuzz's labelled replies: {exc!r}") from None
    return [LabelledReply(p, r, next(iter(v))) for (p, r), v in labels.items() if len(v) == 1]


def hash_sample(rows: Sequence[LabelledReply], n: int | None) -> list[LabelledReply]:
    """The ``n`` rows first in ``sha256(prompt NUL reply)`` order (all of them, in that
    order, for None): a fixed sample that does not depend on file order."""

    def key(row: LabelledReply) -> str:
        return hashlib.sha256(f"{row.prompt}\0{row.reply}".encode()).hexdigest()

    ordered = sorted(rows, key=key)
    return ordered if n is None else ordered[:n]


def agreement_document(
    scores: Sequence[JudgeScore], samples: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """The published ``judges.json``: every score, with what each task and sample is.

    Args:
        scores: the judges' scores.
        samples: task -> how its rows were drawn, for sampled tasks (``harm_sample150``).
    """
    tasks = {t: TASKS.get(t.split("@")[0], t) for t in dict.fromkeys(s.task for s in scores)}
    return {
        "format": AGREEMENT_FORMAT,
        "tasks": tasks,
        "samples": dict(samples or {}),
        "scores": [s.to_dict() for s in scores],
    }


def score(name: str, task: str, reader: Reader, rows: Sequence[LabelledReply]) -> JudgeScore:
    """Confusion counts of ``reader`` against the human labels."""
    tp = fp = fn = tn = 0
    for row in rows:
        said = reader(row.prompt, row.reply)
        tp += said and row.label == 1
        fp += said and row.label == 0
        fn += (not said) and row.label == 1
        tn += (not said) and row.label == 0
    return JudgeScore(name, task, tp, fp, fn, tn)


def success_reader(judge: Judge, unreadable: list[str] | None = None) -> Reader:
    """A judge's success call (harm task: harmful compliance) as a reader. With
    ``unreadable``, a reply the judge cannot read (:class:`JudgeError`, e.g. an LLM
    judge's broken JSON) counts as no success and its error is appended there; without
    it the error propagates."""

    def read(prompt: str, reply: str) -> bool:
        probe = Probe.user(prompt, original=prompt, converter="human_labelled")
        try:
            return judge.judge(probe, TargetReply(text=reply)).success
        except JudgeError as exc:
            if unreadable is None:
                raise
            unreadable.append(str(exc))
            return False

    return read


def keyword_refusal(prompt: str, reply: str) -> bool:
    """The keyword judge's refusal reading: empty or opening with a refusal phrase."""
    return looks_refused(reply)


def score_judges(
    readers: Mapping[str, Mapping[str, Reader]],
    labelled: Mapping[str, Sequence[LabelledReply]],
) -> list[JudgeScore]:
    """``readers[task][judge]`` scored on ``labelled[task]``."""
    return [
        score(name, task, reader, labelled.get(task, ()))
        for task, by_judge in readers.items()
        for name, reader in by_judge.items()
    ]
