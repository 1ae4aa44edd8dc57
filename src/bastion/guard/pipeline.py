"""Runs layers in cascade order; how verdicts combine is a separate strategy object.

Every stage has a deadline (``timeout_s``); a layer past it yields an error verdict and
the guard fails closed. Most stages run on a worker thread and are waited for at most
that long. Python cannot stop a thread, so a timed-out layer finishes in the background
and its late result is dropped. An ``inline`` stage (a cheap, bounded tier-0 layer) runs
on the calling thread, which saves the hand-off: it cannot be cut short, but a verdict
that arrives past its deadline is still an error verdict, so a slow layer never passes
silently (design note 0054).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, replace
from typing import Protocol

from bastion.core.verdict import Verdict
from bastion.guard.config import DEFAULT_TIMEOUT_S
from bastion.guard.layers.base import CheckRequest, Layer

__all__ = ["CascadePolicy", "Pipeline", "Stage", "layer_name"]


class CascadePolicy(Protocol):
    """Decides whether the cascade goes on to the next tier."""

    def should_continue(self, verdicts: Sequence[Verdict], next_tier: int) -> bool:
        """True to run the next stage, given the verdicts so far."""
        ...


@dataclass(frozen=True, slots=True)
class Stage:
    """A built layer with its place in the cascade, its deadline and, when it has its
    own, the act threshold for its verdicts. ``inline`` runs it on the calling thread
    (its deadline is checked when it returns). ``name`` (when set) is the name its
    verdicts carry, so two layers of one kind stay apart; empty: the layer's own name."""

    layer: Layer
    tier: int
    timeout_s: float = DEFAULT_TIMEOUT_S
    act_threshold: float | None = None
    name: str = ""
    inline: bool = False

    def __post_init__(self) -> None:
        if not (math.isfinite(self.timeout_s) and self.timeout_s > 0):
            raise ValueError(f"a stage needs a positive deadline, got {self.timeout_s!r}")


class Pipeline:
    """Runs stages in order, asking the cascade policy before each later one."""

    def __init__(
        self,
        stages: Sequence[Stage],
        cascade: CascadePolicy,
        *,
        clock: Callable[[], float] = time.perf_counter,
    ) -> None:
        self._stages = tuple(stages)
        self._cascade = cascade
        self._clock = clock
        self._executor: ThreadPoolExecutor | None = None

    @property
    def stages(self) -> tuple[Stage, ...]:
        """The stages, in order."""
        return self._stages

    def run(self, request: CheckRequest) -> tuple[Verdict, ...]:
        """Run the cascade; every stage that runs contributes exactly one verdict."""
        verdicts: list[Verdict] = []
        for stage in self._stages:
            if verdicts and not self._cascade.should_continue(verdicts, stage.tier):
                break
            verdicts.append(self._run_stage(stage, request))
        return tuple(verdicts)

    def close(self) -> None:
        """Stop the worker threads (running timed-out layers are abandoned)."""
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)
            self._executor = None

    def _run_stage(self, stage: Stage, request: CheckRequest) -> Verdict:
        name = stage.name or layer_name(stage.layer)
        start = self._clock()
        try:
            verdict = (
                stage.layer.check(request)
                if stage.inline
                else self._run_with_timeout(stage, request)
            )
        except FutureTimeout:
            return _failed(name, f"timed out after {stage.timeout_s:g} s", start, self._clock)
        except Exception as exc:  # noqa: BLE001 - any layer failure must fail closed
            return _failed(name, f"{type(exc).__name__}: {exc}", start, self._clock)
        elapsed = self._clock() - start
        problem = _invalid(verdict) or _late(stage, elapsed)
        if problem:
            return _failed(name, problem, start, self._clock)
        return replace(verdict, layer=name, latency_ms=elapsed * 1000.0)

    def _run_with_timeout(self, stage: Stage, request: CheckRequest) -> Verdict:
        if self._executor is None:
            workers = sum(1 for s in self._stages if not s.inline)
            self._executor = ThreadPoolExecutor(max_workers=max(2, workers * 2))
        future = self._executor.submit(stage.layer.check, request)
        return future.result(timeout=stage.timeout_s)


def layer_name(layer: Layer) -> str:
    """The layer's name; a broken ``name`` property falls back to the class name."""
    try:
        return str(layer.name)
    except Exception:  # noqa: BLE001 - a broken name must not break the guard
        return type(layer).__name__


def _invalid(verdict: object) -> str | None:
    if not isinstance(verdict, Verdict):
        return f"returned {type(verdict).__name__}, not a Verdict"
    if not (math.isfinite(verdict.score) and 0.0 <= verdict.score <= 1.0):
        return f"returned score {verdict.score!r} outside [0, 1]"
    return None


def _late(stage: Stage, elapsed_s: float) -> str | None:
    """An inline stage's verdict that came after its deadline (it could not be cut short)."""
    if stage.inline and elapsed_s > stage.timeout_s:
        return f"timed out after {stage.timeout_s:g} s (ran inline for {elapsed_s:.3g} s)"
    return None


def _failed(name: str, error: str, start: float, clock: Callable[[], float]) -> Verdict:
    return Verdict(layer=name, error=error[:500], latency_ms=(clock() - start) * 1000.0)
