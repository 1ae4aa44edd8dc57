"""The other side of an attack success rate: how often a target answers benign prompts.

A red-team run that only counts bypasses rewards a target that refuses everything. With
``bastion redteam run --benign N`` the run also sends ``N`` held-out benign prompts (a
hash-ordered sample of the shared benign prompts' test split and the contrast set's test
safe prompts: never trained or calibrated on) and writes ``benign.json``: the share that
came back answered (not blocked by a guard, not a refusal).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bastion.core.errors import RecordError
from bastion.redteam.base import Probe, looks_refused
from bastion.redteam.report.stats import Rate
from bastion.redteam.targets import Target

__all__ = ["BENIGN_FILE", "BenignResult", "benign_sample", "measure_benign"]

BENIGN_FILE = "benign.json"


@dataclass(frozen=True, slots=True)
class BenignResult:
    """Benign prompts answered, with the ones that were not."""

    passed: Rate
    refused: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {"benign_pass": self.passed.to_dict(), "not_answered": list(self.refused)}

    def write(self, folder: Path) -> Path:
        """Write ``benign.json`` into ``folder``.

        Raises:
            RecordError: the file cannot be written.
        """
        path = folder / BENIGN_FILE
        try:
            text = json.dumps(self.to_dict(), indent=2, ensure_ascii=False)
            path.write_text(text + "\n", encoding="utf-8")
        except OSError as exc:
            raise RecordError(f"{path}: cannot write: {exc}") from None
        return path


def benign_sample(prompts: Sequence[str], n: int) -> tuple[str, ...]:
    """``n`` prompts in a fixed, hash-based order (the same sample on every run)."""
    ranked = sorted(set(prompts), key=lambda t: hashlib.sha256(t.encode("utf-8")).digest())
    return tuple(ranked[:n])


def measure_benign(
    target: Target, prompts: Sequence[str], tick: Callable[[], None] | None = None
) -> BenignResult:
    """Send each prompt once; answered = not blocked and not opening with a refusal."""
    refused = []
    for text in prompts:
        reply = target.answer(Probe.user(text, original=text, converter="benign"))
        if reply.blocked or (reply.text.strip() and looks_refused(reply.text)):
            refused.append(text)
        if tick is not None:
            tick()
    return BenignResult(Rate(len(prompts) - len(refused), len(prompts)), tuple(refused))
