"""Baselines for the injection detector, scored on the same texts in the same run.

- ``jailguard`` (0.1.2): a prompt-injection MLP over all-MiniLM-L6-v2 embeddings. It
  downloads its embedder on first use unless ``$JAILGUARD_MODEL_DIR/all-MiniLM-L6-v2.onnx``
  exists, so the run links bastion's own hash-pinned int8 MiniLM there (a temporary
  folder) and sets the variable before jailguard first runs. jailguard accepts the int8
  graph (same inputs and output name as the fp32 export it expects); its scores may
  differ slightly from its published numbers. Flag: jailguard's own ``is_injection``.
- ``rules``: bastion's tier-0 rules alone (the default guard). A user text is checked as
  one user turn, a document as a tool message after a user request to summarise it
  (where the rules' indirect-injection patterns apply). Flag: the decision is not
  ``allow``.
"""

from __future__ import annotations

import importlib.util
import os
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from bastion.training.baselines import BaselineScore, score_flags

__all__ = [
    "JailguardBaseline",
    "RoleBaseline",
    "RulesBaseline",
    "available_injection_baselines",
    "flags_by_source",
    "run_baseline",
]

_ASK = "Please summarise the document the tool returned."


class RoleBaseline(Protocol):
    """A detector that flags texts, each read in its role (``user`` or ``tool``)."""

    @property
    def name(self) -> str:
        """Short name for tables."""
        ...

    def flags(self, texts: Sequence[str], roles: Sequence[str]) -> list[bool]:
        """One flag per text."""
        ...


class RulesBaseline:
    """bastion's tier-0 rules alone: flagged unless the rules-only guard allows."""

    name = "rules"

    def flags(self, texts: Sequence[str], roles: Sequence[str]) -> list[bool]:
        """Flag every text the rules-only guard does not allow."""
        from bastion.core.types import Action
        from bastion.guard import Guard

        with Guard.from_policy() as guard:
            return [
                guard.check(_conversation(t, r)).action is not Action.ALLOW
                for t, r in zip(texts, roles, strict=True)
            ]


def _conversation(text: str, role: str) -> list[dict[str, str]]:
    if role == "tool":
        return [{"role": "user", "content": _ASK}, {"role": "tool", "content": text}]
    return [{"role": "user", "content": text}]


class JailguardBaseline:
    """jailguard's MLP over bastion's local MiniLM (see the module docstring)."""

    name = "jailguard"

    def __init__(self) -> None:
        from bastion.models.encoder import MODEL_SHA256, packaged_model_path, verify_sha256

        model = packaged_model_path()
        verify_sha256(model, MODEL_SHA256)
        self._dir = tempfile.TemporaryDirectory(prefix="bastion-jailguard-")
        os.symlink(model, Path(self._dir.name) / "all-MiniLM-L6-v2.onnx")
        os.environ["JAILGUARD_MODEL_DIR"] = self._dir.name  # read by jailguard on first use

    def flags(self, texts: Sequence[str], roles: Sequence[str]) -> list[bool]:
        """jailguard's ``is_injection`` per text (roles are not used)."""
        import jailguard

        return [bool(r.is_injection) for r in jailguard.detect_batch(list(texts))]


def available_injection_baselines() -> tuple[list[RoleBaseline], dict[str, str]]:
    """The baselines that can run here, and why the others cannot."""
    found: list[RoleBaseline] = [RulesBaseline()]
    skipped: dict[str, str] = {}
    if importlib.util.find_spec("jailguard") is not None:
        found.append(JailguardBaseline())
    else:
        skipped["jailguard"] = "not installed: pip install jailguard==0.1.2"
    return found, skipped


def run_baseline(
    baseline: RoleBaseline, texts: Sequence[str], roles: Sequence[str], y: npt.NDArray[np.int64]
) -> tuple[BaselineScore, npt.NDArray[np.bool_]]:
    """Run ``baseline`` over the texts; its score and its flags."""
    start = time.perf_counter()
    flags = np.asarray(baseline.flags(texts, roles), dtype=bool)
    ms = (time.perf_counter() - start) * 1000 / max(1, len(texts))
    return score_flags(baseline.name, flags, y, ms), flags


def flags_by_source(
    sources: Sequence[str], flags: npt.NDArray[np.bool_], y: npt.NDArray[np.int64]
) -> dict[str, Any]:
    """Per source: the share of attacks caught and of benign texts passed."""
    out: dict[str, Any] = {}
    for name in sorted(set(sources)):
        idx = [i for i, s in enumerate(sources) if s == name]
        f, v = flags[idx], y[idx]
        out[name] = {
            "catch": round(float(f[v == 1].mean()), 4) if (v == 1).any() else None,
            "benign_pass": round(float((~f[v == 0]).mean()), 4) if (v == 0).any() else None,
        }
    return out
