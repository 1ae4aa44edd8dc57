"""Fake layers shipped in the package, for tests and for trying configurations.

Use these instead of mocks: they implement the real :class:`~bastion.guard.layers.base.Layer`
protocol and are registered (``fake_static``, ``fake_failing``, ``fake_slow``) when a
registry is built with ``include_fakes=True``.
"""

from __future__ import annotations

import time

from pydantic import Field

from bastion.core.types import Action, Intent
from bastion.core.verdict import Verdict
from bastion.guard.layers.base import CheckRequest, LayerConfigModel, LayerDeps, layer_plugin

__all__ = [
    "FailingLayer",
    "FailingLayerConfig",
    "SlowLayer",
    "SlowLayerConfig",
    "StaticLayer",
    "StaticLayerConfig",
]


class StaticLayerConfig(LayerConfigModel):
    """The verdict a :class:`StaticLayer` returns for every request."""

    name: str = "fake_static"
    score: float = Field(default=0.0, ge=0, le=1)
    category: str | None = None
    techniques: tuple[str, ...] = ()
    action: Action | None = None
    response_refusal: float | None = None
    response_harmful: float | None = None
    intent: Intent | None = None
    precise: bool = False


@layer_plugin(name="fake_static", tier=1, config=StaticLayerConfig)
class StaticLayer:
    """Fake layer that returns one configured verdict for every request."""

    def __init__(self, config: StaticLayerConfig, deps: LayerDeps | None = None) -> None:
        self._cfg = config
        self.calls = 0

    @property
    def name(self) -> str:
        """The configured name."""
        return self._cfg.name

    @property
    def precise(self) -> bool:
        """Whether the combiner treats this fake as a precise (pattern-like) layer."""
        return self._cfg.precise

    def check(self, request: CheckRequest) -> Verdict:
        """Return the configured verdict."""
        self.calls += 1
        cfg = self._cfg
        return Verdict(
            layer=cfg.name,
            score=cfg.score,
            category=cfg.category,
            categories=((cfg.category, cfg.score),) if cfg.category else (),
            techniques=cfg.techniques,
            action=cfg.action,
            response_refusal=cfg.response_refusal if request.response is not None else None,
            response_harmful=cfg.response_harmful if request.response is not None else None,
            intent=cfg.intent,
        )


class FailingLayerConfig(LayerConfigModel):
    """The error a :class:`FailingLayer` raises."""

    name: str = "fake_failing"
    message: str = "simulated layer failure"


@layer_plugin(name="fake_failing", tier=1, config=FailingLayerConfig)
class FailingLayer:
    """Fake layer that always raises, to exercise fail-closed handling."""

    def __init__(self, config: FailingLayerConfig, deps: LayerDeps | None = None) -> None:
        self._cfg = config

    @property
    def name(self) -> str:
        """The configured name."""
        return self._cfg.name

    def check(self, request: CheckRequest) -> Verdict:
        """Raise the configured error."""
        raise RuntimeError(self._cfg.message)


class SlowLayerConfig(LayerConfigModel):
    """How long a :class:`SlowLayer` sleeps before answering a clean verdict."""

    name: str = "fake_slow"
    delay_s: float = Field(default=1.0, ge=0)


@layer_plugin(name="fake_slow", tier=1, config=SlowLayerConfig)
class SlowLayer:
    """Fake layer that sleeps, to exercise per-layer timeouts."""

    def __init__(self, config: SlowLayerConfig, deps: LayerDeps | None = None) -> None:
        self._cfg = config

    @property
    def name(self) -> str:
        """The configured name."""
        return self._cfg.name

    def check(self, request: CheckRequest) -> Verdict:
        """Sleep, then return a clean verdict."""
        time.sleep(self._cfg.delay_s)
        return Verdict(layer=self._cfg.name)
