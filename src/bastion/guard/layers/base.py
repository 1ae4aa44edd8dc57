"""The layer plugin kind: one small protocol with one required method.

A layer looks at a whole conversation (every message, already normalised once by the
guard) and returns a :class:`~bastion.core.verdict.Verdict`. Layers never decide the final
action alone: the combining policy and the policy file do.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol, TypeVar, runtime_checkable

from pydantic import BaseModel, ConfigDict

from bastion.core.registry import PLUGIN_ATTR
from bastion.core.text import NormalizedText
from bastion.core.types import Message, Role
from bastion.core.verdict import Verdict

if TYPE_CHECKING:
    from bastion.policy.model import Policy

__all__ = [
    "CheckRequest",
    "Layer",
    "LayerConfigModel",
    "LayerDeps",
    "LayerPlugin",
    "layer_plugin",
]


@dataclass(frozen=True, slots=True)
class CheckRequest:
    """One check: the conversation, optionally the assistant's reply, and the context.

    ``normalized[i]`` is the normalisation of ``messages[i]``; ``normalized_response`` of
    ``response``. Layers read these rather than normalising again.
    """

    messages: tuple[Message, ...]
    normalized: tuple[NormalizedText, ...]
    context: str = "general"
    response: str | None = None
    normalized_response: NormalizedText | None = None

    def user_turns(self) -> tuple[NormalizedText, ...]:
        """Normalised user messages, oldest first."""
        return tuple(
            norm
            for msg, norm in zip(self.messages, self.normalized, strict=True)
            if msg.role is Role.USER
        )


@runtime_checkable
class Layer(Protocol):
    """A check that turns a request into a verdict."""

    @property
    def name(self) -> str:
        """The layer's registered name."""
        ...

    def check(self, request: CheckRequest) -> Verdict:
        """Judge the request. May raise: the guard records the error and fails closed."""
        ...


_L = TypeVar("_L", bound=Layer)


class LayerConfigModel(BaseModel):
    """Base for a layer's own configuration model (unknown keys are errors)."""

    model_config = ConfigDict(extra="forbid", frozen=True)


@dataclass(frozen=True, slots=True)
class LayerDeps:
    """What the guard hands a layer factory: the loaded policy."""

    policy: Policy


@dataclass(frozen=True, slots=True)
class LayerPlugin:
    """Registry entry for a layer: metadata as data plus a factory.

    Attributes:
        name: registered name, used as ``type`` in the guard configuration.
        description: one line a user sees in listings.
        tier: cascade tier (0 = cheap and always on; higher runs only where needed).
        config_model: the layer's own pydantic configuration model.
        build: factory ``(config, deps) -> Layer``.
    """

    name: str
    description: str
    tier: int
    config_model: type[LayerConfigModel]
    build: Callable[[LayerConfigModel, LayerDeps], Layer]


def layer_plugin(
    *, name: str, tier: int, config: type[LayerConfigModel]
) -> Callable[[type[_L]], type[_L]]:
    """Mark a layer class as a plugin; its first docstring line becomes the description.

    The class is built as ``cls(config, deps)``. Marking has no side effect: registries
    collect marked classes when they are built (see :mod:`bastion.guard.registry`).
    """

    def mark(cls: type[_L]) -> type[_L]:
        doc = (cls.__doc__ or "").strip().splitlines()
        entry = LayerPlugin(
            name=name,
            description=doc[0] if doc else "",
            tier=tier,
            config_model=config,
            build=lambda cfg, deps: cls(cfg, deps),  # type: ignore[call-arg]
        )
        setattr(cls, PLUGIN_ATTR, entry)
        return cls

    return mark
